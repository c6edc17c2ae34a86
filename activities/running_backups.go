package activities

import (
	"context"
	"errors"

	"go.temporal.io/sdk/activity"

	"github.com/corso-temporal/corso/temporalclient"
	"github.com/corso-temporal/corso/workflows"
)

// ListRunningBackups lists the running backups of a service into a
// repository, through Temporal visibility, so that a retention policy
// keeps what they may be based on.
func (a *Repositories) ListRunningBackups(ctx context.Context, in workflows.RunningBackupsInput) ([]workflows.RunningBackup, error) {
	c := activity.GetClient(ctx)
	if c == nil {
		return nil, errors.New("this worker has no Temporal client to ask")
	}
	return temporalclient.RunningBackups(ctx, c, activity.GetInfo(ctx).WorkflowNamespace, in.Service, in.Repository)
}
