package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/corso-temporal/corso/backup"
)

// selectorFlags are Corso's Exchange item selectors, shared by backup
// details, restore and export.
type selectorFlags struct {
	emails                    []string
	emailFolders              []string
	emailSubject              string
	emailSender               string
	receivedAfter, rcvBefore  string
	events                    []string
	calendars                 []string
	eventSubject              string
	eventOrganizer            string
	startsAfter, startsBefore string
	contacts                  []string
	contactFolders            []string
	contactName               string
}

func (f *selectorFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
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
	fl.StringVar(&f.startsBefore, "event-starts-before", "", "events starting before this time")
	fl.StringSliceVar(&f.contacts, "contact", nil, "contact item ids")
	fl.StringSliceVar(&f.contactFolders, "contact-folder", nil, "contact folders")
	fl.StringVar(&f.contactName, "contact-name", "", "contacts whose name contains this")
}

func (f selectorFlags) selector() (backup.Selector, error) {
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
		{"event-starts-before", f.startsBefore, &s.StartsBefore},
	} {
		if *t.into, err = parseWhen(t.flag, t.v); err != nil {
			return s, err
		}
	}
	return s, s.Validate()
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
