package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/corso-temporal/corso/workflows"
)

func newRepoMaintenanceCommand(g *globals) *cobra.Command {
	var (
		mode  string
		force bool
		creds credentialFlags
		when  maintenanceWhen
	)
	cmd := &cobra.Command{
		Use:   "maintenance",
		Short: "Compact the repository's indexes (quick) and reclaim the space of deleted backups (full)",
		Long: "Runs kopia maintenance on the connected repository, once at a time per repository: a second request\n" +
			"while one runs waits for it and prints its result. Quick compacts indexes; full also deletes data no\n" +
			"backup references, never what a backup still running needs. Space of deleted backups is reclaimed\n" +
			"by full maintenance a day after the deletion at the earliest (kopia's safety).\n" +
			"With --every or --cron it runs on a Temporal Schedule instead, one per repository and mode\n" +
			"(corso backup schedule list|describe|pause|delete manage it).",
		Example: "  corso repo maintenance --mode full\n" +
			"  corso repo maintenance --mode quick --every 6h\n" +
			`  corso repo maintenance --mode full --cron "0 3 * * 0"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if when.every != "" || when.cron != "" {
				return runMaintenanceSchedule(cmd.Context(), g, mode, force, when, creds, cmd.OutOrStdout())
			}
			return runRepoMaintenance(cmd.Context(), g, mode, force, creds, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&when.every, "every", "", "run on a schedule at this interval, like 6h or 24h")
	cmd.Flags().StringVar(&when.cron, "cron", "", `run on a schedule at the times of this cron expression, in UTC, like "0 3 * * 0"`)
	cmd.Flags().DurationVar(&when.catchup, "catchup-window", time.Hour, "after Temporal was unavailable, still start a missed run up to this late")
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
	repoID, err := maintenanceRepository(g, mode)
	if err != nil {
		return err
	}
	s, err := connectedSession(ctx, g, cf)
	if err != nil {
		return err
	}
	defer s.client.Close()
	in := func(repo workflows.RepoRef) workflows.RepoMaintenanceInput {
		return workflows.RepoMaintenanceInput{Repo: repo, RepositoryID: repoID, Mode: mode, Force: force}
	}
	if err := in(s.repo).Validate(); err != nil {
		return err
	}
	o := maintenanceOutput{}
	id := workflows.MaintenanceWorkflowID(repoID)
	progress := heartbeatProgress(g, s.client, maintenanceReport(mode))
	if d, derr := s.client.DescribeWorkflowExecution(ctx, id, ""); derr == nil &&
		d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		// The repository's maintenance is already running: its result is
		// this request's.
		runID := d.GetWorkflowExecutionInfo().GetExecution().GetRunId()
		o.Joined, o.Workflow = true, submitted{WorkflowID: id, RunID: runID}
		stop := func() {}
		if progress != nil {
			stop = newProgressLine(g, os.Stderr).watch(ctx, func(ctx context.Context) (progressReport, bool) {
				return progress(ctx, o.Workflow)
			})
		}
		err = s.client.GetWorkflow(ctx, id, runID).Get(ctx, &o.RepoMaintenanceResult)
		stop()
	} else {
		o.Workflow, err = execute(ctx, s.client, g, request{
			workflowID: id,
			workflow:   workflows.RepoMaintenanceWorkflow,
			input:      s.input(func(repo workflows.RepoRef, _ workflows.GraphRef) any { return in(repo) }),
			attrs:      repoAttrs("repo maintenance", s.repo),
			progress:   progress,
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

// maintenanceReport is where a maintenance run stands: the step its
// activity runs. kopia's tasks count nothing they tell, so there is no
// total and no ETA.
func maintenanceReport(mode string) describedReport {
	return func(d *workflowservice.DescribeWorkflowExecutionResponse, dc converter.DataConverter) progressReport {
		p := workflows.MaintenanceProgress{Mode: mode}
		pendingHeartbeat(d, dc, workflows.ActivityMaintainRepository, &p)
		stage := p.Mode + " maintenance"
		if p.Stage != "" {
			stage += ": " + p.Stage
		}
		return progressReport{Stage: stage}
	}
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

// maintenanceRepository checks the mode and returns the connected
// repository's id, which names its maintenance.
func maintenanceRepository(g *globals, mode string) (string, error) {
	if mode != workflows.MaintenanceQuick && mode != workflows.MaintenanceFull {
		return "", fmt.Errorf("invalid --mode %q: use quick or full", mode)
	}
	path, err := configPath(g.configFile)
	if err != nil {
		return "", err
	}
	cfg, err := readConfig(path)
	if err != nil {
		return "", err
	}
	if cfg.RepoID == "" {
		return "", fmt.Errorf("%s names no repository id: run `corso repo connect` first", path)
	}
	return cfg.RepoID, nil
}

// maintenanceWhen is when scheduled maintenance runs.
type maintenanceWhen struct {
	every, cron string
	catchup     time.Duration
}

// maintenanceScheduleID names a repository's schedule for one mode.
func maintenanceScheduleID(repoID, mode string) string {
	return scheduleID("maintenance", mode+"-"+repoID)
}

// runMaintenanceSchedule has Temporal run the repository's maintenance on
// a schedule. Each run starts the repository's one maintenance workflow
// (or finds it running), so a run never overlaps a manual one.
func runMaintenanceSchedule(ctx context.Context, g *globals, mode string, force bool, when maintenanceWhen, cf credentialFlags, out io.Writer) error {
	repoID, err := maintenanceRepository(g, mode)
	if err != nil {
		return err
	}
	spec, catchup, err := scheduleTiming(when.every, when.cron, when.catchup)
	if err != nil {
		return err
	}
	s, err := connectedSession(ctx, g, cf)
	if err != nil {
		return err
	}
	defer s.client.Close()
	id := maintenanceScheduleID(repoID, mode)
	b, err := g.scheduleBinding(id, workflows.RepoMaintenanceWorkflow)
	if err != nil {
		return err
	}
	input, err := s.input(func(repo workflows.RepoRef, _ workflows.GraphRef) any {
		return workflows.RepoMaintenanceInput{Repo: repo, RepositoryID: repoID, Mode: mode, Force: force, StartSingleton: true}
	})(b)
	if err != nil {
		return err
	}
	_, err = s.client.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:   id,
		Spec: spec,
		Action: &client.ScheduleWorkflowAction{
			ID:                    id,
			Workflow:              workflows.RepoMaintenanceWorkflow,
			Args:                  []any{input},
			TaskQueue:             g.taskQueue,
			TypedSearchAttributes: temporal.NewSearchAttributes(repoAttrs("repo maintenance", s.repo)...),
		},
		Overlap:       enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		CatchupWindow: catchup,
		Memo: map[string]any{
			memoService:    "maintenance (" + mode + ")",
			memoSelection:  "repository " + repoID,
			memoRetention:  "none",
			memoWhen:       describeSpec(&spec),
			memoRepository: s.repo.Storage.String(),
		},
	})
	switch {
	case errors.Is(err, temporal.ErrScheduleAlreadyRunning):
		return fmt.Errorf("this repository already has a %s maintenance schedule: delete it first (corso backup schedule delete %s)", mode, id)
	case err != nil:
		return fmt.Errorf("create schedule %s: %s", id, oneLine(err))
	}
	return printSchedule(ctx, g, s.client, s.client.ScheduleClient().GetHandle(ctx, id), out)
}
