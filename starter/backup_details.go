package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/workflows"
)

type detailsFlags struct {
	id       string
	sel      selectorFlags
	problems problemFlags
	creds    credentialFlags
}

// problemFlags show, instead of a backup's items, the items it could not
// back up: Corso's --skipped-items (Graph can never serve them: malware,
// corrupt, ...) and --failed-items (anything else).
type problemFlags struct {
	skipped, failed bool
}

func (p *problemFlags) add(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&p.skipped, "skipped-items", false, "list the items left out because Microsoft 365 can never serve them, with the cause")
	cmd.Flags().BoolVar(&p.failed, "failed-items", false, "list the items that failed for any other reason")
}

func (p problemFlags) any() bool { return p.skipped || p.failed }

// problems is the part of a backup's item errors the flags ask for, and
// the items backed up with a warning (SharePoint's rewritten files), which
// either flag shows.
type problems struct {
	Backup   backup.Summary     `json:"backup"`
	Skipped  []backup.ItemError `json:"skipped,omitempty"`
	Failed   []backup.ItemError `json:"failed,omitempty"`
	Warnings []backup.ItemError `json:"warnings,omitempty"`
}

func (p problemFlags) of(d workflows.BackupDetailsResult) problems {
	out := problems{Backup: d.Backup}
	for _, e := range d.Errors {
		switch {
		case e.Kept:
			out.Warnings = append(out.Warnings, e)
		case e.Cause != "" && e.Cause != "deletedInFlight" && p.skipped:
			out.Skipped = append(out.Skipped, e)
		case (e.Cause == "" || e.Cause == "deletedInFlight") && p.failed:
			out.Failed = append(out.Failed, e)
		}
	}
	return out
}

func printProblems(out io.Writer, pr problems) {
	for _, part := range []struct {
		title string
		rows  []backup.ItemError
	}{{"skipped", pr.Skipped}, {"failed", pr.Failed}, {"backed up with a warning", pr.Warnings}} {
		if part.rows == nil {
			continue
		}
		fmt.Fprintf(out, "%d items %s in backup %s of %s:\n", len(part.rows), part.title, pr.Backup.BackupID, pr.Backup.ResourceName)
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  CATEGORY\tFOLDER\tNAME\tID\tCAUSE\tREASON")
		for _, e := range part.rows {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", e.Category, strings.Join(e.Path, "/"), clip(e.Name), short(e.ItemID), e.Cause, e.Reason)
		}
		_ = tw.Flush()
	}
}

func newBackupDetailsExchangeCommand(g *globals) *cobra.Command {
	var f detailsFlags
	cmd := &cobra.Command{
		Use:   "exchange",
		Short: "Show the items of an Exchange backup, optionally selected",
		Example: `  corso backup details exchange --backup ID --email-folder Inbox --email-subject report
  corso backup details exchange --backup ID --event-starts-after 2026-01-01T00:00:00Z`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sel, err := f.selector()
			if err != nil {
				return err
			}
			return runBackupDetails(cmd.Context(), g, "exchange", f.id, sel, f.problems, f.creds, cmd.OutOrStdout())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.id, "backup", "", "id of the backup (see `corso backup list exchange`)")
	f.sel.add(cmd)
	f.problems.add(cmd)
	addPassphraseFlags(cmd, &f.creds)
	return cmd
}

func (f detailsFlags) selector() (backup.Selector, error) {
	if f.id == "" {
		return backup.Selector{}, errors.New("--backup is required")
	}
	return f.sel.selector()
}

func runBackupDetails(ctx context.Context, g *globals, service, id string, sel backup.Selector, pf problemFlags, cf credentialFlags, out io.Writer) error {
	s, err := connectedSession(ctx, g, cf)
	if err != nil {
		return err
	}
	defer s.client.Close()
	var all workflows.BackupDetailsResult
	for offset := 0; ; {
		var page workflows.BackupDetailsResult
		_, err := execute(ctx, s.client, g, request{
			idPrefix: "corso-backup-details",
			workflow: workflows.BackupDetailsWorkflow,
			input: s.input(func(repo workflows.RepoRef, _ workflows.GraphRef) any {
				return workflows.BackupDetailsInput{Repo: repo, Service: service, BackupID: id, Selector: sel, Offset: offset}
			}),
			attrs: repoAttrs("backup details", s.repo),
		}, &page)
		if err != nil {
			return err
		}
		all.Backup, all.Total, all.Errors = page.Backup, page.Total, page.Errors
		all.Entries = append(all.Entries, page.Entries...)
		offset += len(page.Entries)
		if len(page.Entries) == 0 || offset >= page.Total {
			break
		}
	}
	if pf.any() {
		pr := pf.of(all)
		if g.json {
			return printJSON(out, pr)
		}
		printProblems(out, pr)
		return nil
	}
	if g.json {
		return printJSON(out, all)
	}
	printDetails(out, all)
	return nil
}

func printDetails(out io.Writer, d workflows.BackupDetailsResult) {
	fmt.Fprintf(out, "Backup %s of %s, %s, %d items selected\n\n", d.Backup.BackupID, d.Backup.ResourceName, when(d.Backup.Completed), d.Total)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	for _, cat := range []string{"email", "events", "contacts", backup.FilesCategory, backup.ChannelMessagesCategory, backup.ConversationsCategory} {
		var rows []backup.Entry
		for _, e := range d.Entries {
			if e.Category == cat {
				rows = append(rows, e)
			}
		}
		if len(rows) == 0 {
			continue
		}
		switch cat {
		case "email":
			fmt.Fprintln(tw, "ID\tFOLDER\tSUBJECT\tSENDER\tRECEIVED\tSIZE")
			for _, e := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", short(e.ItemID), strings.Join(e.Path, "/"), clip(e.Subject), e.Sender, when(e.Received), humanBytes(e.Size))
			}
		case backup.ChannelMessagesCategory:
			fmt.Fprintln(tw, "ID\tCHANNEL\tMESSAGE\tSENDER\tPOSTED\tSIZE")
			for _, e := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", short(e.ItemID), strings.Join(e.Path, "/"), clip(e.Subject), e.Sender, when(e.Received), humanBytes(e.Size))
			}
		case backup.ConversationsCategory:
			fmt.Fprintln(tw, "ID\tCONVERSATION\tSENDER\tRECEIVED\tSIZE")
			for _, e := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", short(e.ItemID), clip(strings.Join(e.Path, "/")), e.Sender, when(e.Received), humanBytes(e.Size))
			}
		case "events":
			fmt.Fprintln(tw, "ID\tCALENDAR\tSUBJECT\tORGANIZER\tSTARTS\tENDS")
			for _, e := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", short(e.ItemID), strings.Join(e.Path, "/"), clip(e.Subject), e.Organizer, when(e.Start), when(e.End))
			}
		case backup.FilesCategory:
			fmt.Fprintln(tw, "ID\tLIBRARY\tFOLDER\tNAME\tSIZE\tMODIFIED")
			for _, e := range rows {
				fmt.Fprintf(tw, "%s\t%s\t/%s\t%s\t%s\t%s\n", short(e.ItemID), e.Library, strings.Join(e.Path, "/"), clip(e.Name), humanBytes(e.Size), when(e.ModTime))
			}
		case "contacts":
			fmt.Fprintln(tw, "ID\tFOLDER\tNAME\tEMAILS")
			for _, e := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", short(e.ItemID), strings.Join(e.Path, "/"), e.DisplayName, strings.Join(e.Emails, ", "))
			}
		}
		fmt.Fprintln(tw)
	}
	_ = tw.Flush()
	if len(d.Errors) > 0 {
		fmt.Fprintf(out, "%d items could not be backed up (--skipped-items, --failed-items list them):\n", len(d.Errors))
		for _, e := range d.Errors {
			name := e.ItemID
			if e.Name != "" {
				name = e.Name
			}
			fmt.Fprintf(out, "  %s %s/%s: %s\n", e.Category, strings.Join(e.Path, "/"), name, e.Reason)
		}
	}
}

// short abbreviates Graph's long ids for tables; --json has them whole.
func short(id string) string {
	if len(id) <= 16 {
		return id
	}
	return id[:6] + "…" + id[len(id)-8:]
}

// clip keeps table columns readable; --json has the whole text.
func clip(s string) string {
	r := []rune(s)
	if len(r) <= 60 {
		return s
	}
	return string(r[:59]) + "…"
}
