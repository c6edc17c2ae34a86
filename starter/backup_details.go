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

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/workflows"
)

type detailsFlags struct {
	id                       string
	emails                   []string
	emailFolders             []string
	emailSubject             string
	emailSender              string
	receivedAfter, rcvBefore string
	events                   []string
	calendars                []string
	eventSubject             string
	eventOrganizer           string
	startsAfter, startsBefre string
	contacts                 []string
	contactFolders           []string
	contactName              string
	creds                    credentialFlags
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
			return runBackupDetails(cmd.Context(), g, f.id, sel, f.creds, cmd.OutOrStdout())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.id, "backup", "", "id of the backup (see `corso backup list exchange`)")
	fl.StringSliceVar(&f.emails, "email", nil, "email item ids")
	fl.StringSliceVar(&f.emailFolders, "email-folder", nil, "mail folders, e.g. Inbox/Projects (includes subfolders)")
	fl.StringVar(&f.emailSubject, "email-subject", "", "mail whose subject contains this")
	fl.StringVar(&f.emailSender, "email-sender", "", "mail whose sender contains this")
	fl.StringVar(&f.receivedAfter, "email-received-after", "", "mail received after this time (RFC 3339 or YYYY-MM-DD)")
	fl.StringVar(&f.rcvBefore, "email-received-before", "", "mail received before this time")
	fl.StringSliceVar(&f.events, "event", nil, "event item ids")
	fl.StringSliceVar(&f.calendars, "event-calendar", nil, "calendars")
	fl.StringVar(&f.eventSubject, "event-subject", "", "events whose subject contains this")
	fl.StringVar(&f.eventOrganizer, "event-organizer", "", "events whose organizer contains this")
	fl.StringVar(&f.startsAfter, "event-starts-after", "", "events starting after this time")
	fl.StringVar(&f.startsBefre, "event-starts-before", "", "events starting before this time")
	fl.StringSliceVar(&f.contacts, "contact", nil, "contact item ids")
	fl.StringSliceVar(&f.contactFolders, "contact-folder", nil, "contact folders")
	fl.StringVar(&f.contactName, "contact-name", "", "contacts whose name contains this")
	addPassphraseFlags(cmd, &f.creds)
	return cmd
}

func parseWhen(flag, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--%s %q: want a time like 2026-01-31 or 2026-01-31T08:00:00Z", flag, v)
}

func (f detailsFlags) selector() (backup.Selector, error) {
	if f.id == "" {
		return backup.Selector{}, errors.New("--backup is required")
	}
	s := backup.Selector{
		EmailFolders: f.emailFolders, EmailSubject: f.emailSubject, EmailSender: f.emailSender,
		EventCalendars: f.calendars, EventSubject: f.eventSubject, EventOrganizer: f.eventOrganizer,
		ContactFolders: f.contactFolders, ContactName: f.contactName,
	}
	s.ItemIDs = append(append(append(s.ItemIDs, f.emails...), f.events...), f.contacts...)
	var err error
	for _, t := range []struct {
		flag, v string
		into    *time.Time
	}{
		{"email-received-after", f.receivedAfter, &s.ReceivedAfter},
		{"email-received-before", f.rcvBefore, &s.ReceivedBefore},
		{"event-starts-after", f.startsAfter, &s.StartsAfter},
		{"event-starts-before", f.startsBefre, &s.StartsBefore},
	} {
		if *t.into, err = parseWhen(t.flag, t.v); err != nil {
			return s, err
		}
	}
	return s, s.Validate()
}

func runBackupDetails(ctx context.Context, g *globals, id string, sel backup.Selector, cf credentialFlags, out io.Writer) error {
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
			input:    workflows.BackupDetailsInput{Repo: s.repo, Service: "exchange", BackupID: id, Selector: sel, Offset: offset},
			attrs:    repoAttrs("backup details", s.repo),
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
	if g.json {
		return printJSON(out, all)
	}
	printDetails(out, all)
	return nil
}

func printDetails(out io.Writer, d workflows.BackupDetailsResult) {
	fmt.Fprintf(out, "Backup %s of %s, %s, %d items selected\n\n", d.Backup.BackupID, d.Backup.ResourceName, when(d.Backup.Completed), d.Total)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	for _, cat := range []string{"email", "events", "contacts"} {
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
		case "events":
			fmt.Fprintln(tw, "ID\tCALENDAR\tSUBJECT\tORGANIZER\tSTARTS\tENDS")
			for _, e := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", short(e.ItemID), strings.Join(e.Path, "/"), clip(e.Subject), e.Organizer, when(e.Start), when(e.End))
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
		fmt.Fprintf(out, "%d items could not be backed up:\n", len(d.Errors))
		for _, e := range d.Errors {
			fmt.Fprintf(out, "  %s %s/%s: %s\n", e.Category, strings.Join(e.Path, "/"), e.ItemID, e.Reason)
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
