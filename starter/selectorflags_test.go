package main

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/corso-temporal/corso/backup"
)

// utc normalises a selector's times so that equal instants compare equal.
func utc(s backup.Selector) backup.Selector {
	for _, p := range []*time.Time{&s.ReceivedAfter, &s.ReceivedBefore, &s.StartsAfter, &s.StartsBefore,
		&s.CreatedAfter, &s.CreatedBefore, &s.ModifiedAfter, &s.ModifiedBefore} {
		if !p.IsZero() {
			*p = p.UTC()
		}
	}
	return s
}

func exchangeSelector(args ...string) (backup.Selector, error) {
	var f selectorFlags
	cmd := &cobra.Command{Use: "x"}
	f.add(cmd)
	if err := cmd.ParseFlags(args); err != nil {
		return backup.Selector{}, err
	}
	return f.selector()
}

func driveSelector(service string, args ...string) (backup.Selector, error) {
	var f driveSelectorFlags
	cmd := &cobra.Command{Use: "x"}
	f.add(cmd, service)
	if err := cmd.ParseFlags(args); err != nil {
		return backup.Selector{}, err
	}
	return f.selector()
}

func TestExchangeSelectorFlags(t *testing.T) {
	jan31 := time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)
	at8 := time.Date(2026, 1, 31, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		args []string
		want backup.Selector
	}{
		{nil, backup.Selector{}},
		{[]string{"--email", "m1,m2"}, backup.Selector{ItemIDs: []string{"m1", "m2"}}},
		{[]string{"--email", "m1", "--email", "m2"}, backup.Selector{ItemIDs: []string{"m1", "m2"}}},
		{[]string{"--email-folder", "Inbox/Projects", "--email-folder", "Archive"}, backup.Selector{EmailFolders: []string{"Inbox/Projects", "Archive"}}},
		{[]string{"--email-subject", "Quarterly report"}, backup.Selector{EmailSubject: "Quarterly report"}},
		{[]string{"--email-sender", "ann@contoso.com"}, backup.Selector{EmailSender: "ann@contoso.com"}},
		{[]string{"--email-received-after", "2026-01-31"}, backup.Selector{ReceivedAfter: jan31}},
		{[]string{"--email-received-before", "2026-01-31T08:00:00Z"}, backup.Selector{ReceivedBefore: at8}},
		{[]string{"--email-received-before", "2026-01-31T10:00:00+02:00"}, backup.Selector{ReceivedBefore: at8}},
		{[]string{"--email-received-after", "2026-01-31T08:00:00"}, backup.Selector{ReceivedAfter: at8}},
		{[]string{"--event", "e1"}, backup.Selector{ItemIDs: []string{"e1"}}},
		{[]string{"--event-calendar", "Calendar,Birthdays"}, backup.Selector{EventCalendars: []string{"Calendar", "Birthdays"}}},
		{[]string{"--event-subject", "Stand-up"}, backup.Selector{EventSubject: "Stand-up"}},
		{[]string{"--event-organizer", "bob@"}, backup.Selector{EventOrganizer: "bob@"}},
		{[]string{"--event-starts-after", "2026-01-31"}, backup.Selector{StartsAfter: jan31}},
		{[]string{"--event-starts-before", "2026-01-31T08:00:00Z"}, backup.Selector{StartsBefore: at8}},
		{[]string{"--contact", "c1,c2"}, backup.Selector{ItemIDs: []string{"c1", "c2"}}},
		{[]string{"--contact-folder", "Contacts/Family"}, backup.Selector{ContactFolders: []string{"Contacts/Family"}}},
		{[]string{"--contact-name", "Díaz"}, backup.Selector{ContactName: "Díaz"}},
		// Ids of all three kinds are alternatives of one list.
		{[]string{"--contact", "c1", "--email", "m1", "--event", "e1"}, backup.Selector{ItemIDs: []string{"m1", "e1", "c1"}}},
		{[]string{"--email-subject", "report", "--email-received-after", "2026-01-31", "--email-received-before", "2026-01-31T08:00:00Z"},
			backup.Selector{EmailSubject: "report", ReceivedAfter: jan31, ReceivedBefore: at8}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			got, err := exchangeSelector(tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(utc(got), tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestExchangeSelectorFlagsRefused(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--email-received-after", "yesterday"}, `--email-received-after "yesterday"`},
		{[]string{"--email-received-before", "31/01/2026"}, "--email-received-before"},
		{[]string{"--event-starts-after", "2026-13-01"}, "--event-starts-after"},
		{[]string{"--event-starts-before", "soon"}, "--event-starts-before"},
		{[]string{"--email-received-after", "2026-02-01", "--email-received-before", "2026-01-31"}, "--email-received-after must be earlier"},
		{[]string{"--email-received-after", "2026-01-31", "--email-received-before", "2026-01-31"}, "--email-received-after must be earlier"},
		{[]string{"--event-starts-after", "2026-02-01", "--event-starts-before", "2026-01-31"}, "--event-starts-after must be earlier"},
		{[]string{"--file", "a.txt"}, "unknown flag: --file"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, err := exchangeSelector(tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestDriveSelectorFlags(t *testing.T) {
	jan31 := time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)
	at8 := time.Date(2026, 1, 31, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		service string
		args    []string
		want    backup.Selector
	}{
		{"onedrive", nil, backup.Selector{}},
		{"onedrive", []string{"--folder", "/Reports/2026,Drafts"}, backup.Selector{Folders: []string{"/Reports/2026", "Drafts"}}},
		{"onedrive", []string{"--file", "a.txt", "--file", "B.PDF"}, backup.Selector{Files: []string{"a.txt", "B.PDF"}}},
		{"onedrive", []string{"--file-created-after", "2026-01-31"}, backup.Selector{CreatedAfter: jan31}},
		{"onedrive", []string{"--file-created-before", "2026-01-31T08:00:00Z"}, backup.Selector{CreatedBefore: at8}},
		{"onedrive", []string{"--file-modified-after", "2026-01-31T09:00:00+01:00"}, backup.Selector{ModifiedAfter: at8}},
		{"onedrive", []string{"--file-modified-before", "2026-01-31"}, backup.Selector{ModifiedBefore: jan31}},
		{"sharepoint", []string{"--library", "Documents,Shared Reports"}, backup.Selector{Libraries: []string{"Documents", "Shared Reports"}}},
		{"sharepoint", []string{"--library", "Documents", "--folder", "/Reports", "--file", "a.txt", "--file-created-after", "2026-01-31", "--file-modified-before", "2026-01-31T08:00:00Z"},
			backup.Selector{Libraries: []string{"Documents"}, Folders: []string{"/Reports"}, Files: []string{"a.txt"}, CreatedAfter: jan31, ModifiedBefore: at8}},
	} {
		t.Run(tc.service+" "+strings.Join(tc.args, " "), func(t *testing.T) {
			got, err := driveSelector(tc.service, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(utc(got), tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestDriveSelectorFlagsRefused(t *testing.T) {
	for _, tc := range []struct {
		service string
		args    []string
		want    string
	}{
		{"onedrive", []string{"--library", "Documents"}, "unknown flag: --library"},
		{"onedrive", []string{"--email-subject", "x"}, "unknown flag: --email-subject"},
		{"onedrive", []string{"--file-created-after", "last week"}, `--file-created-after "last week"`},
		{"sharepoint", []string{"--file-modified-before", "tomorrow"}, "--file-modified-before"},
		{"onedrive", []string{"--file-created-after", "2026-02-01", "--file-created-before", "2026-01-31"}, "--file-created-after must be earlier"},
		{"sharepoint", []string{"--file-modified-after", "2026-01-31", "--file-modified-before", "2026-01-31"}, "--file-modified-after must be earlier"},
	} {
		t.Run(tc.service+" "+strings.Join(tc.args, " "), func(t *testing.T) {
			_, err := driveSelector(tc.service, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// Every command that selects items offers every selector of its service.
func TestCommandsOfferTheirSelectors(t *testing.T) {
	exchange := []string{"email", "email-folder", "email-subject", "email-sender", "email-received-after", "email-received-before",
		"event", "event-calendar", "event-subject", "event-organizer", "event-starts-after", "event-starts-before",
		"contact", "contact-folder", "contact-name"}
	drive := []string{"folder", "file", "file-created-after", "file-created-before", "file-modified-after", "file-modified-before"}
	root := newRootCommand()
	for _, verb := range [][]string{{"backup", "details"}, {"export"}, {"restore"}} {
		for service, want := range map[string][]string{"exchange": exchange, "onedrive": drive, "sharepoint": append(append([]string(nil), drive...), "library")} {
			path := append(append([]string(nil), verb...), service)
			cmd, _, err := root.Find(path)
			if err != nil || cmd.Name() != service {
				t.Fatalf("%v: %v (found %q)", path, err, cmd.Name())
			}
			for _, name := range want {
				if cmd.Flags().Lookup(name) == nil {
					t.Errorf("%v has no --%s", path, name)
				}
			}
			if service == "onedrive" && cmd.Flags().Lookup("library") != nil {
				t.Errorf("%v offers --library", path)
			}
		}
	}
}

func TestSiteIDsSurviveTheCommaSeparatedFlag(t *testing.T) {
	id := "contoso.sharepoint.com,2c712604-1370-44e7-a1f5-426573a2a30b,2d2244c3-251a-49ea-93a8-39e4e1a6e5a2"
	for _, tc := range []struct {
		in, want []string
	}{
		{strings.Split(id, ","), []string{id}},
		{append([]string{"https://contoso.sharepoint.com/sites/hr"}, strings.Split(id, ",")...), []string{"https://contoso.sharepoint.com/sites/hr", id}},
		{append(strings.Split(id, ","), strings.Split(id, ",")...), []string{id, id}},
		{[]string{"*"}, []string{"*"}},
		// Not a site id: a host and one GUID, or GUIDs without a host.
		{[]string{"contoso.sharepoint.com", "2c712604-1370-44e7-a1f5-426573a2a30b"}, []string{"contoso.sharepoint.com", "2c712604-1370-44e7-a1f5-426573a2a30b"}},
		{[]string{"2c712604-1370-44e7-a1f5-426573a2a30b", "2d2244c3-251a-49ea-93a8-39e4e1a6e5a2"}, []string{"2c712604-1370-44e7-a1f5-426573a2a30b", "2d2244c3-251a-49ea-93a8-39e4e1a6e5a2"}},
	} {
		if got := siteIDsRejoined(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}
