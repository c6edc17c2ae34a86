package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/workflows"
)

type restoreFlags struct {
	id          string
	sel         selectorFlags
	destination string
	collisions  string
	toResource  string
	failFast    bool
	creds       credentialFlags
}

func newRestoreCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "restore", Short: "Restore backed-up items into Microsoft 365"}
	cmd.AddCommand(newRestoreExchangeCommand(g), newRestoreDriveCommand(g, m365.OneDrive), newRestoreDriveCommand(g, m365.SharePoint),
		newRestoreListsCommand(g), newRestoreGroupsCommand(g))
	return cmd
}

func newRestoreDriveCommand(g *globals, service string) *cobra.Command {
	var (
		f             restoreFlags
		sel           driveSelectorFlags
		noPermissions bool
	)
	cmd := &cobra.Command{
		Use:   service,
		Short: "Restore files from a " + service + " backup",
		Example: "  corso restore " + service + " --backup ID\n  corso restore " + service +
			" --backup ID --folder /Reports --destination Recovered --collisions copy",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in, err := f.common(time.Now(), "15-04-05")
			if err != nil {
				return err
			}
			s, err := sel.selector()
			if err != nil {
				return err
			}
			return runRestoreDrive(cmd.Context(), g, workflows.DriveRestoreInput{
				Service: service, BackupID: in.BackupID, Selector: s, Destination: in.Destination,
				Collisions: in.Collisions, ToResource: in.ToResource, NoPermissions: noPermissions, FailFast: in.FailFast,
			}, f.creds, cmd.OutOrStdout())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.id, "backup", "", "id of the backup to restore from (see `corso backup list "+service+"`)")
	sel.add(cmd, service)
	fl.StringVar(&f.destination, "destination", "", "folder at the library's root to restore into (default Corso_Restore_<time>); / restores into the original folders")
	fl.StringVar(&f.collisions, "collisions", workflows.CollisionSkip, "when a file of the same name exists: skip, copy (restore beside it, renamed) or replace")
	flag, _ := resourceFlag(service)
	fl.StringVar(&f.toResource, "to-resource", "", "restore into this "+flag+" instead of the backed-up one")
	fl.BoolVar(&noPermissions, "no-permissions", false, "do not restore sharing permissions")
	fl.BoolVar(&f.failFast, "fail-fast", false, "stop at the first file that cannot be restored")
	addPassphraseFlags(cmd, &f.creds)
	return cmd
}

func runRestoreDrive(ctx context.Context, g *globals, in workflows.DriveRestoreInput, cf credentialFlags, out io.Writer) error {
	s, err := connectedSession(ctx, g, cf)
	if err != nil {
		return err
	}
	defer s.client.Close()
	if err := loadGraph(s); err != nil {
		return err
	}
	var res workflows.RestoreResult
	sub, err := execute(ctx, s.client, g, request{
		idPrefix: "corso-restore-" + in.Service,
		workflow: workflows.DriveRestoreWorkflow,
		input: s.input(func(repo workflows.RepoRef, gr workflows.GraphRef) any {
			in.Repo, in.Graph = repo, gr
			return in
		}),
		attrs: []temporal.SearchAttributeUpdate{
			workflows.AttrOperation.ValueSet("restore"),
			workflows.AttrService.ValueSet(in.Service),
			workflows.AttrTenant.ValueSet(s.graph.tenant),
			workflows.AttrRepository.ValueSet(s.repo.Storage.String()),
			workflows.AttrBackupID.ValueSet(in.BackupID),
		},
		progress: func(ctx context.Context, sub submitted) (progressReport, bool) {
			return restoreProgress(ctx, s.client, sub, "restoring")
		},
	}, &res)
	return printRestoreOutcome(g, out, sub, res, err)
}

func newRestoreExchangeCommand(g *globals) *cobra.Command {
	var f restoreFlags
	cmd := &cobra.Command{
		Use:   "exchange",
		Short: "Restore mail, contacts and events from an Exchange backup",
		Example: `  corso restore exchange --backup ID
  corso restore exchange --backup ID --email-folder Inbox --destination Recovered
  corso restore exchange --backup ID --to-resource bob@contoso.com --collisions copy
  corso restore exchange --backup ID --destination / --collisions replace`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRestoreExchange(cmd.Context(), g, f, cmd.OutOrStdout())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.id, "backup", "", "id of the backup to restore from (see `corso backup list exchange`)")
	f.sel.add(cmd)
	fl.StringVar(&f.destination, "destination", "", "top-level folder to restore into (default Corso_Restore_<time>); / restores into the original folders")
	fl.StringVar(&f.collisions, "collisions", workflows.CollisionSkip, "when an item already exists: skip, copy or replace")
	fl.StringVar(&f.toResource, "to-resource", "", "restore into this mailbox instead of the backed-up one")
	fl.BoolVar(&f.failFast, "fail-fast", false, "stop at the first item that cannot be restored")
	addPassphraseFlags(cmd, &f.creds)
	return cmd
}

// defaultDestination names a new top-level folder after the restore time;
// clock is the time-of-day layout (drive names cannot hold a colon).
func defaultDestination(now time.Time, clock string) string {
	return "Corso_Restore_" + now.UTC().Format("02-Jan-2006_"+clock)
}

func (f restoreFlags) input() (workflows.ExchangeRestoreInput, error) {
	in, err := f.common(time.Now(), "15:04:05")
	if err != nil {
		return in, err
	}
	sel, err := f.sel.selector()
	if err != nil {
		return in, err
	}
	in.Selector = sel
	return in, nil
}

// common checks the flags every service's restore has.
func (f restoreFlags) common(now time.Time, clock string) (workflows.ExchangeRestoreInput, error) {
	in := workflows.ExchangeRestoreInput{BackupID: f.id, Destination: f.destination, Collisions: f.collisions,
		ToResource: strings.TrimSpace(f.toResource), FailFast: f.failFast}
	if f.id == "" {
		return in, errors.New("--backup is required")
	}
	switch f.collisions {
	case workflows.CollisionSkip, workflows.CollisionCopy, workflows.CollisionReplace:
	default:
		return in, fmt.Errorf("--collisions %q: want skip, copy or replace", f.collisions)
	}
	switch d := f.destination; {
	case d == "":
		in.Destination = defaultDestination(now, clock)
	case d == workflows.InPlace:
	case strings.TrimSpace(d) != d || strings.Contains(d, "/"):
		return in, fmt.Errorf("--destination %q: give one folder name without slashes or surrounding spaces, or / for the original folders", d)
	}
	return in, nil
}

func runRestoreExchange(ctx context.Context, g *globals, f restoreFlags, out io.Writer) error {
	in, err := f.input()
	if err != nil {
		return err
	}
	return runContainerRestore(ctx, g, in, f.creds, out)
}

// runContainerRestore runs the restore of a backup of containers of
// items: Exchange's (in.Service empty), SharePoint lists' or Groups'.
// After a restore that ran, each note may tell more of the backup.
func runContainerRestore(ctx context.Context, g *globals, in workflows.ExchangeRestoreInput, cf credentialFlags, out io.Writer,
	notes ...func(context.Context, *session) error,
) error {
	service := workflows.ContainerService(in.Service)
	s, err := connectedSession(ctx, g, cf)
	if err != nil {
		return err
	}
	defer s.client.Close()
	if err := loadGraph(s); err != nil {
		return err
	}
	var res workflows.RestoreResult
	sub, err := execute(ctx, s.client, g, request{
		idPrefix: "corso-restore-" + service,
		workflow: workflows.ExchangeRestoreWorkflow,
		input: s.input(func(repo workflows.RepoRef, gr workflows.GraphRef) any {
			in.Repo, in.Graph = repo, gr
			return in
		}),
		attrs: []temporal.SearchAttributeUpdate{
			workflows.AttrOperation.ValueSet("restore"),
			workflows.AttrService.ValueSet(service),
			workflows.AttrTenant.ValueSet(s.graph.tenant),
			workflows.AttrRepository.ValueSet(s.repo.Storage.String()),
			workflows.AttrBackupID.ValueSet(in.BackupID),
		},
		progress: func(ctx context.Context, sub submitted) (progressReport, bool) {
			return restoreProgress(ctx, s.client, sub, "restoring")
		},
	}, &res)
	outcome := printRestoreOutcome(g, out, sub, res, err)
	if err != nil {
		return outcome
	}
	for _, note := range notes {
		if err := note(ctx, s); err != nil {
			return err
		}
	}
	return outcome
}

func printRestoreOutcome(g *globals, out io.Writer, sub submitted, res workflows.RestoreResult, err error) error {
	if err != nil {
		return err
	}
	if g.json {
		if err := printJSON(out, struct {
			Workflow submitted `json:"workflow"`
			workflows.RestoreResult
		}{sub, res}); err != nil {
			return err
		}
	} else {
		printRestore(out, res)
		if link := webUILink(g, sub); link != "" {
			fmt.Fprintf(out, "\nWeb UI: %s\n", link)
		}
	}
	if res.Total.Failed > 0 {
		return fmt.Errorf("%d of %d selected items could not be restored", res.Total.Failed,
			res.Total.Failed+res.Total.Restored+res.Total.Skipped)
	}
	return nil
}

// restoreErrorsShown is how many item errors the table output lists.
const restoreErrorsShown = 15

// restoredWhere says where a restore wrote: mail, contact and calendar
// items into folders named after the destination; a list's items and a
// channel's threads into a new list or channel beside the original,
// named after both (see the restore plan).
func restoredWhere(res workflows.RestoreResult) string {
	noun := "folders"
	for _, c := range res.Categories {
		switch c.Category {
		case m365.ListItems:
			noun = "lists"
		case m365.ChannelMessages:
			noun = "channels"
		}
	}
	switch {
	case res.Destination == workflows.InPlace:
		return "into the original " + noun
	case noun == "folders":
		return "into folders named " + res.Destination
	}
	return fmt.Sprintf("into new %s named after each with %q appended", noun, " "+res.Destination)
}

func printRestore(out io.Writer, res workflows.RestoreResult) {
	fmt.Fprintf(out, "Restored backup %s to %s, %s\n\n", res.BackupID, res.Mailbox.UPN, restoredWhere(res))
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CATEGORY\tRESTORED\tSKIPPED\tREPLACED\tFAILED\tSIZE")
	row := func(name string, c workflows.RestoreCounts) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\n", name, c.Restored, c.Skipped, c.Replaced, c.Failed, humanBytes(c.Bytes))
	}
	for _, c := range res.Categories {
		row(string(c.Category), c.RestoreCounts)
	}
	row("total", res.Total)
	_ = tw.Flush()
	if res.Total.Restored+res.Total.Skipped+res.Total.Failed == 0 {
		fmt.Fprintln(out, "\nNo item of the backup matches the selection.")
	}
	if n := len(res.Errors); n > 0 {
		fmt.Fprintf(out, "\n%d items could not be restored:\n", res.Total.Failed)
		for i, e := range res.Errors {
			if i == restoreErrorsShown {
				fmt.Fprintf(out, "  … and %d more (see --json)\n", int64(n-i)+res.ErrorsOmitted)
				break
			}
			fmt.Fprintf(out, "  %s %s/%s: %s\n", e.Category, strings.Join(e.Path, "/"), e.ItemID, e.Reason)
		}
	}
}

// restoreProgress is where a restore or an export stands.
func restoreProgress(ctx context.Context, c client.Client, sub submitted, stage string) (progressReport, bool) {
	var p workflows.RestoreProgress
	if queryProgress(ctx, c, sub.WorkflowID, &p) != nil {
		return progressReport{}, false
	}
	if p.Stage != "" {
		stage = p.Stage
	}
	return progressReport{Stage: stage, Unit: "folders", Done: p.CollectionsDone, Total: p.CollectionsTotal,
		Items: p.Done.Restored + p.Done.Skipped + p.Done.Failed, ItemsTotal: p.Selected, Bytes: p.Done.Bytes}, true
}
