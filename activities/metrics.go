package activities

import (
	"context"

	"go.temporal.io/sdk/activity"
)

// Metrics activities record through the Temporal SDK's metrics handler,
// which a worker started with --metrics-listen serves to Prometheus.
const (
	// MetricBackupItems counts items downloaded and stored by backups.
	MetricBackupItems = "corso_backup_items_total"
	// MetricBackupBytes counts the bytes of those items.
	MetricBackupBytes = "corso_backup_bytes_total"
)

// backedUp counts one item of service in tenant stored in the repository.
// Unchanged items a backup keeps from the previous one are not counted:
// the counters measure what moved.
func backedUp(ctx context.Context, service, tenant string, bytes int64) {
	if !activity.IsActivity(ctx) {
		return
	}
	h := activity.GetMetricsHandler(ctx).WithTags(map[string]string{"service": service, "tenant": tenant})
	h.Counter(MetricBackupItems).Inc(1)
	h.Counter(MetricBackupBytes).Inc(bytes)
}
