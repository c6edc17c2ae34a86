package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/temporalclient"
	"github.com/corso-temporal/corso/workflows"
)

// retentionFlags are the --keep-* flags of a retention policy, which
// `backup prune` applies once and a backup schedule after each run.
type retentionFlags struct {
	policy backup.Retention
	within string
}

func (f *retentionFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.IntVar(&f.policy.Last, "keep-last", 0, "keep the newest N backups")
	fl.IntVar(&f.policy.Hourly, "keep-hourly", 0, "keep the newest backup of each of the last N hours (UTC) that have one")
	fl.IntVar(&f.policy.Daily, "keep-daily", 0, "keep the newest backup of each of the last N days (UTC) that have one")
	fl.IntVar(&f.policy.Weekly, "keep-weekly", 0, "keep the newest backup of each of the last N ISO weeks (UTC) that have one")
	fl.IntVar(&f.policy.Monthly, "keep-monthly", 0, "keep the newest backup of each of the last N months (UTC) that have one")
	fl.IntVar(&f.policy.Yearly, "keep-yearly", 0, "keep the newest backup of each of the last N years (UTC) that have one")
	fl.StringVar(&f.within, "keep-within", "", "keep every backup within this of the newest one, like 7d, 36h or 1y6m (m is months)")
}

// parse returns the policy the flags give, which may be empty.
func (f *retentionFlags) parse() (backup.Retention, error) {
	if f.within != "" {
		sp, err := backup.ParseSpan(f.within)
		if err != nil {
			return backup.Retention{}, fmt.Errorf("--keep-within: %w", err)
		}
		f.policy.Within = sp
	}
	if err := f.policy.Validate(); err != nil {
		return backup.Retention{}, err
	}
	return f.policy, nil
}

// retentionFlagsOf writes a policy as the flags that give it.
func retentionFlagsOf(p backup.Retention) []string {
	var out []string
	for _, c := range []struct {
		flag string
		n    int
	}{{"--keep-last", p.Last}, {"--keep-hourly", p.Hourly}, {"--keep-daily", p.Daily},
		{"--keep-weekly", p.Weekly}, {"--keep-monthly", p.Monthly}, {"--keep-yearly", p.Yearly}} {
		if c.n > 0 {
			out = append(out, c.flag, strconv.Itoa(c.n))
		}
	}
	if !p.Within.Zero() {
		out = append(out, "--keep-within", p.Within.String())
	}
	return out
}

// pruneFlags are `backup prune`'s policy and scope.
type pruneFlags struct {
	retention retentionFlags
	policy    backup.Retention
	resources []string
	dryRun    bool
	creds     credentialFlags
}

func newBackupPruneCommand(g *globals, service string) *cobra.Command {
	var f pruneFlags
	cmd := &cobra.Command{
		Use:   service,
		Short: "Delete " + service + " backups a retention policy does not keep",
		Long: "Applies the policy to each resource's completed " + service + " backups, as restic's forget --keep-* does " +
			"(hours, days, ISO weeks, months and years in UTC), and deletes the rest in one request. " +
			"A resource's newest completed backup, and the base of a backup of it that is running, are always kept.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.validate(); err != nil {
				return err
			}
			return runBackupPrune(cmd.Context(), g, service, f, cmd.OutOrStdout())
		},
	}
	f.retention.add(cmd)
	fl := cmd.Flags()
	fl.StringArrayVar(&f.resources, "resource", nil, "prune only this resource (id, address or site URL); repeat for more")
	fl.BoolVar(&f.dryRun, "dry-run", false, "print what would be kept and removed, and delete nothing")
	addPassphraseFlags(cmd, &f.creds)
	return cmd
}

func (f *pruneFlags) validate() error {
	var err error
	if f.policy, err = f.retention.parse(); err != nil {
		return err
	}
	if f.policy.Empty() {
		return errors.New("no retention policy: give at least one of --keep-last, --keep-hourly, --keep-daily, --keep-weekly, --keep-monthly, --keep-yearly, --keep-within")
	}
	return nil
}

// pruneResource is one resource's answer.
type pruneResource struct {
	Tenant       string              `json:"tenant"`
	Resource     string              `json:"resource"`
	ResourceName string              `json:"resourceName,omitempty"`
	Running      []runningBackup     `json:"running,omitempty"`
	Kept         []backup.KeptBackup `json:"kept"`
	Removed      []backup.Dated      `json:"removed"`
}

// pruneResult is what `backup prune --json` prints.
type pruneResult struct {
	Service   string           `json:"service"`
	Policy    backup.Retention `json:"policy"`
	DryRun    bool             `json:"dryRun"`
	Resources []pruneResource  `json:"resources"`
	Deleted   []string         `json:"deleted"`
	Workflow  string           `json:"workflow,omitempty"`
}

func runBackupPrune(ctx context.Context, g *globals, service string, f pruneFlags, out io.Writer) error {
	s, err := connectedSession(ctx, g, f.creds)
	if err != nil {
		return err
	}
	defer s.client.Close()
	list, err := listBackups(ctx, g, s, service, "")
	if err != nil {
		return err
	}
	running, err := runningBackups(ctx, s.client, g, service, s.repo.Storage.String())
	if err != nil {
		return err
	}
	res := pruneResult{Service: service, Policy: f.policy, DryRun: f.dryRun, Deleted: []string{}}
	res.Resources, err = planPrune(list.Backups, running, f.policy, f.resources)
	if err != nil {
		return err
	}
	var remove []string
	for _, r := range res.Resources {
		for _, b := range r.Removed {
			remove = append(remove, b.BackupID)
		}
	}
	if !f.dryRun && len(remove) > 0 {
		del, workflow, err := deleteBackups(ctx, g, s, service, "pruning backups", remove)
		if err != nil {
			return fmt.Errorf("delete %d backups: %w", len(remove), err)
		}
		res.Deleted, res.Workflow = del.Deleted, workflow
	}
	if g.json {
		return printJSON(out, res)
	}
	printPrune(out, res)
	return nil
}

// runningBackup is a backup of a resource that has not finished.
type runningBackup = workflows.RunningBackup

// runningBackups finds the backups of service into repository that are
// running.
func runningBackups(ctx context.Context, c client.Client, g *globals, service, repository string) ([]runningBackup, error) {
	return temporalclient.RunningBackups(ctx, c, g.temporal.Namespace, service, repository)
}

// planPrune groups completed backups by tenant and resource, keeps only
// the resources asked for (none: all), and applies the policy to each,
// keeping every backup that may be the base of a running backup
// (workflows.ProtectRunningBases).
func planPrune(bs []backup.Summary, running []runningBackup, p backup.Retention, only []string) ([]pruneResource, error) {
	type key struct{ tenant, resource string }
	groups := map[key]*pruneResource{}
	dated := map[key][]backup.Dated{}
	matched := map[string]bool{}
	wanted := func(b backup.Summary) bool {
		if len(only) == 0 {
			return true
		}
		for _, r := range only {
			if strings.EqualFold(r, b.Resource) || strings.EqualFold(r, b.ResourceName) {
				matched[r] = true
				return true
			}
		}
		return false
	}
	for _, b := range bs {
		if b.Status != backup.StatusCompleted || !wanted(b) {
			continue
		}
		k := key{b.Tenant, b.Resource}
		if groups[k] == nil {
			groups[k] = &pruneResource{Tenant: b.Tenant, Resource: b.Resource, ResourceName: b.ResourceName}
		}
		dated[k] = append(dated[k], backup.Dated{BackupID: b.BackupID, Completed: b.Completed})
	}
	for _, r := range only {
		if !matched[r] {
			return nil, fmt.Errorf("--resource %s: no completed backups of it in this repository (see `corso backup list`)", r)
		}
	}
	out := []pruneResource{}
	for k, g := range groups {
		g.Running = workflows.RunsOf(running, g.Tenant, g.Resource, g.ResourceName)
		d := backup.Retain(dated[k], p, workflows.ProtectRunningBases(dated[k], g.Running))
		g.Kept, g.Removed = d.Kept, d.Removed
		if g.Removed == nil {
			g.Removed = []backup.Dated{}
		}
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Tenant != out[j].Tenant {
			return out[i].Tenant < out[j].Tenant
		}
		return strings.ToLower(out[i].ResourceName+out[i].Resource) < strings.ToLower(out[j].ResourceName+out[j].Resource)
	})
	return out, nil
}

// pruneTime shows completion times in UTC, the buckets' zone, to the
// millisecond: backups of one resource can complete within a second.
const pruneTime = "2006-01-02 15:04:05.000 UTC"

func printPrune(out io.Writer, res pruneResult) {
	if len(res.Resources) == 0 {
		fmt.Fprintf(out, "No completed %s backups to prune\n", res.Service)
		return
	}
	removed := 0
	for _, r := range res.Resources {
		name := r.ResourceName
		if name == "" {
			name = r.Resource
		}
		fmt.Fprintf(out, "%s: keep %d, remove %d\n", name, len(r.Kept), len(r.Removed))
		for _, run := range r.Running {
			fmt.Fprintf(out, "  backup %s is running; which backup is its base is not recorded where prune can read it, so every backup that may be is kept\n", run.BackupID)
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		for _, k := range r.Kept {
			fmt.Fprintf(tw, "  keep\t%s\t%s\t%s\n", k.BackupID, k.Completed.UTC().Format(pruneTime), strings.Join(k.Reasons, ", "))
		}
		for _, b := range r.Removed {
			fmt.Fprintf(tw, "  remove\t%s\t%s\n", b.BackupID, b.Completed.UTC().Format(pruneTime))
		}
		_ = tw.Flush()
		removed += len(r.Removed)
	}
	switch {
	case res.DryRun:
		fmt.Fprintf(out, "Dry run: %d backups would be removed; nothing was deleted\n", removed)
	case removed == 0:
		fmt.Fprintln(out, "Nothing to remove")
	default:
		fmt.Fprintf(out, "Deleted %d backups: %s\n", len(res.Deleted), strings.Join(res.Deleted, ", "))
	}
}
