package temporalclient

import (
	"context"
	"fmt"

	workflowservice "go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/corso-temporal/corso/workflows"
)

// RunningBackups lists the backups of service into repository that are
// running, through Temporal visibility (workflows.RunningBackupsQuery).
// `backup prune` and a schedule's retention step both keep their bases.
func RunningBackups(ctx context.Context, c client.Client, namespace, service, repository string) ([]workflows.RunningBackup, error) {
	var out []workflows.RunningBackup
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: namespace, Query: workflows.RunningBackupsQuery(service, repository), NextPageToken: token,
		})
		if err != nil {
			return nil, fmt.Errorf("list running backups in Temporal: %w", err)
		}
		for _, e := range resp.Executions {
			attrs := e.GetSearchAttributes().GetIndexedFields()
			str := func(name string) string {
				p, ok := attrs[name]
				if !ok {
					return ""
				}
				var v string
				if err := converter.GetDefaultDataConverter().FromPayload(p, &v); err != nil {
					return ""
				}
				return v
			}
			out = append(out, workflows.RunningBackup{
				BackupID: str(workflows.AttrBackupID.GetName()),
				Workflow: e.GetExecution().GetWorkflowId(),
				Resource: str(workflows.AttrResource.GetName()),
				Tenant:   str(workflows.AttrTenant.GetName()),
				Started:  e.GetStartTime().AsTime(),
			})
		}
		token = resp.NextPageToken
		if len(token) == 0 {
			return out, nil
		}
	}
}
