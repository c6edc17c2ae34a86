package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/corso-temporal/corso/workflows"
)

func newRepoMaintenanceCommand(g *globals) *cobra.Command {
	var (
		mode  string
		force bool
		creds credentialFlags
	)
	cmd := &cobra.Command{
		Use:   "maintenance",
		Short: "Compact the repository's indexes (quick) and reclaim the space of deleted backups (full)",
		Long: "Runs kopia maintenance on the connected repository, once at a time per repository: a second request\n" +
			"while one runs waits for it and prints its result. Quick compacts indexes; full also deletes data no\n" +
			"backup references, never what a backup still running needs. Space of deleted backups is reclaimed\n" +
			"by full maintenance a day after the deletion at the earliest (kopia's safety).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRepoMaintenance(cmd.Context(), g, mode, force, creds, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&mode, "mode", workflows.MaintenanceQuick, "quick (compact indexes) or full (also reclaim unreferenced data)")
	cmd.Flags().BoolVar(&force, "force", false, "take maintenance over from another owner (such as a kopia client)")
	addPassphraseFlags(cmd, &creds)
	return cmd
}

type maintenanceOutput struct {
	workflows.RepoMaintenanceResult
	// Joined: this request found the repository's maintenance running
	// and waited for it instead of starting another.
	Joined   bool      `json:"joined,omitempty"`
	Workflow submitted `json:"workflow"`
}

func runRepoMaintenance(ctx context.Context, g *globals, mode string, force bool, cf credentialFlags, out io.Writer) error {
	if mode != workflows.MaintenanceQuick && mode != workflows.MaintenanceFull {
		return fmt.Errorf("invalid --mode %q: use quick or full", mode)
	}
	path, err := configPath(g.configFile)
	if err != nil {
		return err
	}
	cfg, err := readConfig(path)
	if err != nil {
		return err
	}
	if cfg.RepoID == "" {
		return fmt.Errorf("%s names no repository id: run `corso repo connect` first", path)
	}
	s, err := connectedSession(ctx, g, cf)
	if err != nil {
		return err
	}
	defer s.client.Close()
	in := func(repo workflows.RepoRef) workflows.RepoMaintenanceInput {
		return workflows.RepoMaintenanceInput{Repo: repo, RepositoryID: cfg.RepoID, Mode: mode, Force: force}
	}
	if err := in(s.repo).Validate(); err != nil {
		return err
	}
	o := maintenanceOutput{}
	id := workflows.MaintenanceWorkflowID(cfg.RepoID)
	if d, derr := s.client.DescribeWorkflowExecution(ctx, id, ""); derr == nil &&
		d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		// The repository's maintenance is already running: its result is
		// this request's.
		runID := d.GetWorkflowExecutionInfo().GetExecution().GetRunId()
		o.Joined, o.Workflow = true, submitted{WorkflowID: id, RunID: runID}
		err = s.client.GetWorkflow(ctx, id, runID).Get(ctx, &o.RepoMaintenanceResult)
	} else {
		o.Workflow, err = execute(ctx, s.client, g, request{
			workflowID: id,
			workflow:   workflows.RepoMaintenanceWorkflow,
			input:      s.input(func(repo workflows.RepoRef, _ workflows.GraphRef) any { return in(repo) }),
			attrs:      repoAttrs("repo maintenance", s.repo),
			progress:   stageProgress("maintaining the repository"),
		}, &o.RepoMaintenanceResult)
	}
	if err != nil {
		return err
	}
	if g.json {
		return printJSON(out, o)
	}
	printMaintenance(out, o)
	return nil
}

func printMaintenance(out io.Writer, o maintenanceOutput) {
	r := o.RepoMaintenanceResult
	if o.Joined {
		fmt.Fprintf(out, "Maintenance of this repository was already running; its result:\n")
	}
	fmt.Fprintf(out, "%s maintenance of repository %s done in %s\n", r.Mode, r.RepositoryID, r.Finished.Sub(r.Started).Round(time.Millisecond))
	fmt.Fprintf(out, "  owner          %s\n", r.Owner)
	fmt.Fprintf(out, "  blobs          %d → %d (%s → %s)\n", r.Before.Blobs, r.After.Blobs, humanBytes(r.Before.Bytes), humanBytes(r.After.Bytes))
	fmt.Fprintf(out, "  pack blobs     %d → %d (%s → %s)\n", r.Before.PackBlobs, r.After.PackBlobs, humanBytes(r.Before.PackBytes), humanBytes(r.After.PackBytes))
	fmt.Fprintf(out, "  index blobs    %d → %d\n", r.Before.IndexBlobs, r.After.IndexBlobs)
	if r.RunningBackups > 0 {
		fmt.Fprintf(out, "  kept           data younger than %s: %d backups were running\n", r.Protected.Round(time.Second), r.RunningBackups)
	}
	fmt.Fprintf(out, "  workflow       %s\n", o.Workflow.WorkflowID)
}
