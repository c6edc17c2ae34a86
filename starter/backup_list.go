package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/corso-temporal/corso/workflows"
)

func newBackupListCommand(g *globals, service string) *cobra.Command {
	var (
		id    string
		creds credentialFlags
	)
	cmd := &cobra.Command{
		Use:   service,
		Short: "List " + service + " backups",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBackupList(cmd.Context(), g, service, id, creds, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&id, "backup", "", "show only this backup")
	addPassphraseFlags(cmd, &creds)
	return cmd
}

func runBackupList(ctx context.Context, g *globals, service, id string, cf credentialFlags, out io.Writer) error {
	s, err := connectedSession(ctx, g, cf)
	if err != nil {
		return err
	}
	defer s.client.Close()
	res, err := listBackups(ctx, g, s, service, id)
	if err != nil {
		return err
	}
	if g.json {
		return printJSON(out, res.Backups)
	}
	if len(res.Backups) == 0 {
		fmt.Fprintf(out, "No %s backups in %s\n", service, s.repo.Storage)
		return nil
	}
	printBackupTable(out, res.Backups)
	return nil
}

// backupListPage is how many backups one backup list request returns: a
// page of summaries (about 400 bytes each) stays far below Temporal's
// payload limit.
const backupListPage = 500

// listBackups lists the service's backups, or the one named id, newest
// first, one backup list request per page.
func listBackups(ctx context.Context, g *globals, s *session, service, id string) (workflows.BackupListResult, error) {
	var all workflows.BackupListResult
	seen := map[string]bool{}
	for offset := 0; ; offset += backupListPage {
		var res workflows.BackupListResult
		_, err := execute(ctx, s.client, g, request{
			idPrefix: "corso-backup-list",
			workflow: workflows.BackupListWorkflow,
			input: s.input(func(repo workflows.RepoRef, _ workflows.GraphRef) any {
				return workflows.BackupListInput{Repo: repo, Service: service, BackupID: id, Offset: offset, Limit: backupListPage}
			}),
			attrs: repoAttrs("backup list", s.repo),
		}, &res)
		if err != nil {
			return all, err
		}
		// A backup recorded meanwhile shifts the pages by one: each
		// backup is listed once.
		for _, b := range res.Backups {
			if !seen[b.BackupID] {
				seen[b.BackupID] = true
				all.Backups = append(all.Backups, b)
			}
		}
		all.Total = res.Total
		if len(res.Backups) < backupListPage || offset+len(res.Backups) >= res.Total {
			return all, nil
		}
	}
}

// deleteBackups runs one backup delete request for ids, showing its
// progress under stage, and returns its result and workflow id.
func deleteBackups(ctx context.Context, g *globals, s *session, service, stage string, ids []string) (workflows.BackupDeleteResult, string, error) {
	var res workflows.BackupDeleteResult
	sub, err := execute(ctx, s.client, g, request{
		idPrefix: "corso-backup-delete",
		workflow: workflows.BackupDeleteWorkflow,
		input: s.input(func(repo workflows.RepoRef, _ workflows.GraphRef) any {
			return workflows.BackupDeleteInput{Repo: repo, Service: service, BackupIDs: ids}
		}),
		attrs:    repoAttrs("backup delete", s.repo),
		progress: heartbeatProgress(g, s.client, deleteReport(stage, len(ids))),
	}, &res)
	return res, sub.WorkflowID, err
}

// deleteReport is where a backup delete request of n backups stands: the
// backups its activity has deleted.
func deleteReport(stage string, n int) describedReport {
	return func(d *workflowservice.DescribeWorkflowExecutionResponse, dc converter.DataConverter) progressReport {
		p := workflows.BackupDeleteProgress{Total: n}
		pendingHeartbeat(d, dc, workflows.ActivityDeleteBackups, &p)
		return progressReport{Stage: stage, Unit: "backups", Done: p.Deleted, Total: p.Total}
	}
}

func repoAttrs(op string, r workflows.RepoRef) []temporal.SearchAttributeUpdate {
	return []temporal.SearchAttributeUpdate{
		workflows.AttrOperation.ValueSet(op),
		workflows.AttrRepository.ValueSet(r.Storage.String()),
	}
}

func newBackupDeleteCommand(g *globals, service string) *cobra.Command {
	var (
		ids   []string
		creds credentialFlags
	)
	cmd := &cobra.Command{
		Use:   service,
		Short: "Delete " + service + " backups",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(ids) == 0 {
				return errors.New("--backup is required")
			}
			s, err := connectedSession(cmd.Context(), g, creds)
			if err != nil {
				return err
			}
			defer s.client.Close()
			res, _, err := deleteBackups(cmd.Context(), g, s, service, "deleting backups", ids)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), res)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleted %s\n", strings.Join(res.Deleted, ", "))
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&ids, "backup", nil, "ids of the backups to delete, comma separated")
	addPassphraseFlags(cmd, &creds)
	return cmd
}
