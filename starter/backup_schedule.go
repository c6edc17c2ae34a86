package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/corso-temporal/corso/codec"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/temporalclient"
)

func newBackupScheduleCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Run backups on a schedule (Temporal Schedules), with a retention policy",
	}
	create := &cobra.Command{Use: "create", Short: "Create a backup schedule"}
	create.AddCommand(newBackupScheduleCreateCommand(g, &exchangeSelection{}), newBackupScheduleCreateCommand(g, &groupsSelection{}))
	for _, service := range []string{m365.OneDrive, m365.SharePoint} {
		create.AddCommand(newBackupScheduleCreateCommand(g, &driveSelection{svc: service}))
	}
	create.AddCommand(newBackupScheduleCreateCommand(g, newListsSelection()))
	list := &cobra.Command{
		Use: "list", Short: "List backup schedules", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runScheduleList(cmd.Context(), g, cmd.OutOrStdout())
		},
	}
	describe := &cobra.Command{
		Use: "describe ID", Short: "Show a backup schedule: when it runs, its policy, its next and recent runs", Args: scheduleIDArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withSchedule(cmd.Context(), g, args[0], func(ctx context.Context, c client.Client, h client.ScheduleHandle) error {
				return printSchedule(ctx, g, c, h, cmd.OutOrStdout())
			})
		},
	}
	cmd.AddCommand(create, list, describe,
		scheduleAction(g, "pause", "Pause a backup schedule: it starts no run until unpaused", "Paused",
			func(ctx context.Context, h client.ScheduleHandle) error {
				return h.Pause(ctx, client.SchedulePauseOptions{Note: "paused with corso backup schedule pause"})
			}),
		scheduleAction(g, "unpause", "Unpause a backup schedule", "Unpaused",
			func(ctx context.Context, h client.ScheduleHandle) error {
				return h.Unpause(ctx, client.ScheduleUnpauseOptions{Note: "unpaused with corso backup schedule unpause"})
			}),
		scheduleAction(g, "trigger", "Start a run of a backup schedule now (skipped if one is running)", "Triggered",
			func(ctx context.Context, h client.ScheduleHandle) error {
				return h.Trigger(ctx, client.ScheduleTriggerOptions{})
			}),
		scheduleAction(g, "delete", "Delete a backup schedule; its backups stay, and its credentials open in no new run", "Deleted",
			func(ctx context.Context, h client.ScheduleHandle) error { return h.Delete(ctx) }),
	)
	return cmd
}

func scheduleIDArg(_ *cobra.Command, args []string) error {
	if len(args) != 1 || strings.TrimSpace(args[0]) == "" {
		return errors.New("give one schedule id (see `corso backup schedule list`)")
	}
	return nil
}

// scheduleAction is a command that does one thing to a schedule by id.
func scheduleAction(g *globals, use, short, done string, do func(context.Context, client.ScheduleHandle) error) *cobra.Command {
	return &cobra.Command{
		Use: use + " ID", Short: short, Args: scheduleIDArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withSchedule(cmd.Context(), g, args[0], func(ctx context.Context, _ client.Client, h client.ScheduleHandle) error {
				if err := do(ctx, h); err != nil {
					return scheduleError(h.GetID(), err)
				}
				if g.json {
					return printJSON(cmd.OutOrStdout(), map[string]string{"schedule": h.GetID(), "done": strings.ToLower(done)})
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s schedule %s\n", done, h.GetID())
				return nil
			})
		},
	}
}

// dialTemporal connects to Temporal alone: schedules need no repository.
func dialTemporal(g *globals) (client.Client, error) {
	g.temporal = g.temporal.FromEnv()
	return temporalclient.Dial(g.temporal)
}

func withSchedule(ctx context.Context, g *globals, id string, do func(context.Context, client.Client, client.ScheduleHandle) error) error {
	c, err := dialTemporal(g)
	if err != nil {
		return err
	}
	defer c.Close()
	return do(ctx, c, c.ScheduleClient().GetHandle(ctx, id))
}

// scheduleError says what to do about a schedule that is not there.
func scheduleError(id string, err error) error {
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return fmt.Errorf("no schedule %s (see `corso backup schedule list`)", id)
	}
	return fmt.Errorf("schedule %s: %s", id, oneLine(err))
}

func newBackupScheduleCreateCommand(g *globals, sel backupSelection) *cobra.Command {
	var (
		f     scheduleFlags
		creds credentialFlags
	)
	service := sel.service()
	cmd := &cobra.Command{
		Use:   service,
		Short: "Back up " + service + " on a schedule, as `corso backup create " + cmp.Or(scheduledCreate[service], service) + "` does, and apply a retention policy after each run",
		Example: "  corso backup schedule create " + service + " --id nightly " + strings.Join(exampleSelection[service], " ") + ` --cron "0 2 * * *" --keep-daily 7 --keep-weekly 4
  corso backup schedule create ` + service + " --id every-4h " + strings.Join(exampleSelection[service], " ") + " --every 4h --keep-last 6",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := sel.validate(); err != nil {
				return err
			}
			if c, ok := sel.(interface{ schedulable() error }); ok {
				if err := c.schedulable(); err != nil {
					return err
				}
			}
			st, err := f.settings(service)
			if err != nil {
				return err
			}
			return runScheduleCreate(cmd.Context(), g, sel, st, creds, cmd.OutOrStdout())
		},
	}
	sel.add(cmd)
	f.add(cmd)
	addPassphraseFlags(cmd, &creds)
	return cmd
}

var exampleSelection = map[string][]string{
	"exchange":           {"--mailbox", "'*'"},
	m365.OneDrive:        {"--user", "'*'"},
	m365.SharePoint:      {"--site", "'*'"},
	m365.SharePointLists: {"--site", "'*'"},
}

// scheduledCreate is the `backup create` a schedule of a service runs,
// when it is not `backup create SERVICE`.
var scheduledCreate = map[string]string{m365.SharePointLists: m365.SharePoint + " --data lists"}

// Memo fields of a backup schedule, which the Web UI's Schedules page and
// `schedule describe` show. They hold no secret.
const (
	memoService    = "service"
	memoSelection  = "selection"
	memoRetention  = "retention"
	memoWhen       = "when"
	memoRepository = "repository"
)

func runScheduleCreate(ctx context.Context, g *globals, sel backupSelection, st scheduleSettings, cf credentialFlags, out io.Writer) error {
	s, err := connectedSession(ctx, g, cf)
	if err != nil {
		return err
	}
	defer s.client.Close()
	if err := loadGraph(s); err != nil {
		return err
	}
	req := sel.request(s, st.policy)
	b, err := g.scheduleBinding(st.id, req.workflow)
	if err != nil {
		return err
	}
	build, ok := req.input.(sealedInput)
	if !ok {
		return fmt.Errorf("a %s backup request has no sealed input", sel.service())
	}
	input, err := build(b)
	if err != nil {
		return err
	}
	retention := "none"
	if st.policy != nil {
		retention = strings.Join(retentionFlagsOf(*st.policy), " ")
	}
	_, err = s.client.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:   st.id,
		Spec: st.spec,
		Action: &client.ScheduleWorkflowAction{
			// Temporal appends each run's time to this id.
			ID:                    st.id,
			Workflow:              req.workflow,
			Args:                  []any{input},
			TaskQueue:             g.taskQueue,
			TypedSearchAttributes: temporal.NewSearchAttributes(req.attrs...),
		},
		Overlap:       enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		CatchupWindow: st.catchup,
		Memo: map[string]any{
			memoService:    sel.service(),
			memoSelection:  strings.Join(sel.flags(), " "),
			memoRetention:  retention,
			memoWhen:       describeSpec(&st.spec),
			memoRepository: s.repo.Storage.String(),
		},
	})
	switch {
	case errors.Is(err, temporal.ErrScheduleAlreadyRunning):
		return fmt.Errorf("schedule %s already exists: pick another --id, or delete it first (corso backup schedule delete %s)", st.id, st.id)
	case err != nil:
		return fmt.Errorf("create schedule %s: %s", st.id, oneLine(err))
	}
	return printSchedule(ctx, g, s.client, s.client.ScheduleClient().GetHandle(ctx, st.id), out)
}

// scheduledRun is one run a schedule started.
type scheduledRun struct {
	Scheduled  time.Time `json:"scheduled"`
	Started    time.Time `json:"started"`
	WorkflowID string    `json:"workflowID"`
	RunID      string    `json:"runID"`
	Status     string    `json:"status,omitempty"`
}

// scheduleView is a backup schedule as `schedule describe` and `schedule
// list` show it.
type scheduleView struct {
	ID            string         `json:"id"`
	Service       string         `json:"service"`
	Selection     string         `json:"selection"`
	Retention     string         `json:"retention"`
	When          string         `json:"when"`
	Repository    string         `json:"repository,omitempty"`
	CatchupWindow string         `json:"catchupWindow,omitempty"`
	Overlap       string         `json:"overlap,omitempty"`
	Paused        bool           `json:"paused"`
	Note          string         `json:"note,omitempty"`
	NextRuns      []time.Time    `json:"nextRuns"`
	RecentRuns    []scheduledRun `json:"recentRuns"`
	Running       []string       `json:"running,omitempty"`
	Runs          int            `json:"runs"`
	SkippedRuns   int            `json:"skippedOverlapping"`
	MissedRuns    int            `json:"missedCatchupWindow"`
}

// memoOf reads a schedule's memo fields. When says it as the flags did:
// Temporal keeps a cron expression as a calendar.
func memoOf(g *globals, m *commonpb.Memo, v *scheduleView) {
	dc, err := codec.NewDataConverter(g.temporal.CodecKey)
	if err != nil {
		return
	}
	field := func(name string) string {
		var s string
		if p := m.GetFields()[name]; p != nil && dc.FromPayload(p, &s) == nil {
			return s
		}
		return ""
	}
	v.Service, v.Selection, v.Retention, v.Repository = field(memoService), field(memoSelection), field(memoRetention), field(memoRepository)
	v.When = field(memoWhen)
}

func printSchedule(ctx context.Context, g *globals, c client.Client, h client.ScheduleHandle, out io.Writer) error {
	d, err := h.Describe(ctx)
	if err != nil {
		return scheduleError(h.GetID(), err)
	}
	v := scheduleView{ID: h.GetID(), NextRuns: d.Info.NextActionTimes, RecentRuns: []scheduledRun{},
		Runs: d.Info.NumActions, SkippedRuns: d.Info.NumActionsSkippedOverlap, MissedRuns: d.Info.NumActionsMissedCatchupWindow}
	memoOf(g, d.Memo, &v)
	if v.When == "" {
		v.When = describeSpec(d.Schedule.Spec)
	}
	if p := d.Schedule.Policy; p != nil {
		v.CatchupWindow = shortDuration(p.CatchupWindow)
		v.Overlap = strings.ToLower(strings.TrimPrefix(p.Overlap.String(), "ScheduleOverlapPolicy"))
	}
	if st := d.Schedule.State; st != nil {
		v.Paused, v.Note = st.Paused, st.Note
	}
	for _, r := range d.Info.RunningWorkflows {
		v.Running = append(v.Running, r.WorkflowID)
	}
	for i := len(d.Info.RecentActions) - 1; i >= 0; i-- {
		a := d.Info.RecentActions[i]
		run := scheduledRun{Scheduled: a.ScheduleTime, Started: a.ActualTime}
		if w := a.StartWorkflowResult; w != nil {
			run.WorkflowID, run.RunID = w.WorkflowID, w.FirstExecutionRunID
			run.Status = runStatus(ctx, c, w.WorkflowID, w.FirstExecutionRunID)
		}
		v.RecentRuns = append(v.RecentRuns, run)
	}
	if g.json {
		return printJSON(out, v)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	paused := "no"
	if v.Paused {
		paused = "yes"
		if v.Note != "" {
			paused += " (" + v.Note + ")"
		}
	}
	for _, row := range [][2]string{
		{"Schedule", v.ID}, {"Service", v.Service}, {"Selection", v.Selection}, {"Runs", v.When},
		{"Retention", v.Retention}, {"Repository", v.Repository},
		{"Catch-up window", v.CatchupWindow}, {"Overlapping runs", v.Overlap}, {"Paused", paused},
		{"Runs so far", fmt.Sprintf("%d (%d skipped while one ran, %d missed the catch-up window)", v.Runs, v.SkippedRuns, v.MissedRuns)},
	} {
		fmt.Fprintf(tw, "%s:\t%s\n", row[0], row[1])
	}
	_ = tw.Flush()
	if v.Paused {
		fmt.Fprintln(out, "Next runs, once unpaused:")
	} else {
		fmt.Fprintln(out, "Next runs:")
	}
	for i, t := range v.NextRuns {
		if i == 5 {
			break
		}
		fmt.Fprintf(out, "  %s\n", t.UTC().Format(time.RFC3339))
	}
	if len(v.RecentRuns) > 0 {
		fmt.Fprintln(out, "Recent runs:")
		tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		for _, r := range v.RecentRuns {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", r.Started.UTC().Format(time.RFC3339), r.Status, r.WorkflowID)
		}
		_ = tw.Flush()
	}
	return nil
}

// runStatus is a run's status as Temporal shows it (Running, Completed,
// Failed, ...), or "unknown" once Temporal no longer keeps the run.
func runStatus(ctx context.Context, c client.Client, workflowID, runID string) string {
	d, err := c.DescribeWorkflowExecution(ctx, workflowID, runID)
	if err != nil {
		return "unknown"
	}
	return strings.TrimPrefix(d.GetWorkflowExecutionInfo().GetStatus().String(), "WorkflowExecutionStatus")
}

func runScheduleList(ctx context.Context, g *globals, out io.Writer) error {
	c, err := dialTemporal(g)
	if err != nil {
		return err
	}
	defer c.Close()
	it, err := c.ScheduleClient().List(ctx, client.ScheduleListOptions{})
	if err != nil {
		return fmt.Errorf("list schedules: %s", oneLine(err))
	}
	views := []scheduleView{}
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return fmt.Errorf("list schedules: %s", oneLine(err))
		}
		if !strings.HasPrefix(e.ID, scheduleIDPrefix) {
			continue
		}
		v := scheduleView{ID: e.ID, Paused: e.Paused, Note: e.Note, NextRuns: e.NextActionTimes, RecentRuns: []scheduledRun{}}
		memoOf(g, e.Memo, &v)
		if v.When == "" {
			v.When = describeSpec(e.Spec)
		}
		for _, a := range e.RecentActions {
			run := scheduledRun{Scheduled: a.ScheduleTime, Started: a.ActualTime}
			if w := a.StartWorkflowResult; w != nil {
				run.WorkflowID, run.RunID = w.WorkflowID, w.FirstExecutionRunID
			}
			v.RecentRuns = append(v.RecentRuns, run)
		}
		views = append(views, v)
	}
	sort.Slice(views, func(i, j int) bool { return views[i].ID < views[j].ID })
	if g.json {
		return printJSON(out, views)
	}
	if len(views) == 0 {
		fmt.Fprintln(out, "No backup schedules (create one with `corso backup schedule create`)")
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSERVICE\tRUNS\tRETENTION\tPAUSED\tNEXT RUN\tLAST RUN")
	for _, v := range views {
		next, last := "-", "-"
		if len(v.NextRuns) > 0 && !v.Paused {
			next = v.NextRuns[0].UTC().Format(time.RFC3339)
		}
		if n := len(v.RecentRuns); n > 0 {
			last = v.RecentRuns[n-1].Started.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%s\t%s\n", v.ID, v.Service, v.When, v.Retention, v.Paused, next, last)
	}
	return tw.Flush()
}
