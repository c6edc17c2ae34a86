package backup

import (
	"strings"
	"testing"
	"time"
)

func TestSelectorMatches(t *testing.T) {
	jan := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	mail := Entry{ItemID: "m1", Category: "email", Path: []string{"Inbox", "Projects"}, Subject: "Quarterly Report", Sender: "ann@contoso.com", Received: jan}
	event := Entry{ItemID: "e1", Category: "events", Path: []string{"Calendar"}, Subject: "Standup", Organizer: "bob@contoso.com", Start: jan}
	contact := Entry{ItemID: "c1", Category: "contacts", Path: []string{"Contacts"}, DisplayName: "Carol Díaz"}
	all := []Entry{mail, event, contact}

	for _, tc := range []struct {
		name string
		sel  Selector
		want []string
	}{
		{"empty selects everything", Selector{}, []string{"m1", "e1", "c1"}},
		{"category", Selector{Categories: []string{"events"}}, []string{"e1"}},
		{"email folder includes subfolders", Selector{EmailFolders: []string{"inbox"}}, []string{"m1"}},
		{"email folder must match whole segments", Selector{EmailFolders: []string{"Inbox/Pro"}}, nil},
		{"subject is a case-insensitive substring", Selector{EmailSubject: "quarterly"}, []string{"m1"}},
		{"sender", Selector{EmailSender: "bob"}, nil},
		{"received after", Selector{ReceivedAfter: jan.Add(-time.Hour)}, []string{"m1"}},
		{"received before excludes the instant", Selector{ReceivedBefore: jan}, nil},
		{"event organizer", Selector{EventOrganizer: "bob@"}, []string{"e1"}},
		{"contact name with accents", Selector{ContactName: "díaz"}, []string{"c1"}},
		{"filters of two categories select from both", Selector{EmailSubject: "report", ContactName: "carol"}, []string{"m1", "c1"}},
		{"item ids", Selector{ItemIDs: []string{"e1", "c1"}}, []string{"e1", "c1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, e := range all {
				if tc.sel.Matches(e) {
					got = append(got, e.ItemID)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestSelectorValidate(t *testing.T) {
	jan := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	if err := (Selector{ReceivedAfter: jan, ReceivedBefore: jan}).Validate(); err == nil {
		t.Error("empty time window accepted")
	}
	if err := (Selector{Categories: []string{"mail"}}).Validate(); err == nil {
		t.Error("unknown category accepted")
	}
	if err := (Selector{EmailSubject: "x"}).Validate(); err != nil {
		t.Error(err)
	}
}

// TestSelectorMatchesEachField selects from a few entries with each field
// alone, with literal expectations.
func TestSelectorMatchesEachField(t *testing.T) {
	day := func(d, h int) time.Time { return time.Date(2026, 1, d, h, 0, 0, 0, time.UTC) }
	exchange := []Entry{
		{ItemID: "m1", Category: "email", Path: []string{"Inbox"}, Subject: "Quarterly Report", Sender: "Ann Lee <ann@contoso.com>", Received: day(10, 0)},
		{ItemID: "m2", Category: "email", Path: []string{"Inbox", "Projects", "Q3 / Budget"}, Subject: "Re: budget", Sender: "bob@fabrikam.com", Received: day(12, 0)},
		{ItemID: "m3", Category: "email", Path: []string{"Inboxes"}, Subject: "", Sender: "carol@contoso.com", Received: day(14, 0)},
		{ItemID: "e1", Category: "events", Path: []string{"Calendar"}, Subject: "Standup", Organizer: "bob@contoso.com", Start: day(10, 9)},
		{ItemID: "e2", Category: "events", Path: []string{"Calendar", "Team"}, Subject: "Offsite planning", Organizer: "ann@contoso.com", Start: day(20, 9)},
		{ItemID: "e3", Category: "events", Path: []string{"Birthdays"}, Subject: "Carol's birthday", Organizer: "", Start: day(30, 0)},
		{ItemID: "c1", Category: "contacts", Path: []string{"Contacts"}, DisplayName: "Carol Díaz"},
		{ItemID: "c2", Category: "contacts", Path: []string{"Contacts", "Family"}, DisplayName: "Dan Díaz"},
	}
	drive := []Entry{
		{ItemID: "f1", Category: FilesCategory, Library: "Documents", Path: []string{"Reports", "2026"}, Name: "Q1.xlsx", Created: day(2, 0), ModTime: day(15, 0)},
		{ItemID: "f2", Category: FilesCategory, Library: "Documents", Path: []string{"Drafts", "Reports"}, Name: "notes.txt", Created: day(5, 0), ModTime: day(6, 0)},
		{ItemID: "f3", Category: FilesCategory, Library: "Shared Reports", Path: nil, Name: "Q1.XLSX", Created: day(8, 0), ModTime: day(25, 0)},
	}
	for _, tc := range []struct {
		name string
		sel  Selector
		want string
	}{
		{"email ids", Selector{ItemIDs: []string{"m2", "m3"}}, "m2 m3"},
		{"email folder and its subfolders, whole segments", Selector{EmailFolders: []string{"Inbox"}}, "m1 m2"},
		{"email folder with a slash in a name", Selector{EmailFolders: []string{"inbox/projects/q3 / budget"}}, "m2"},
		{"email folders are alternatives", Selector{EmailFolders: []string{"Inbox/Projects", "Inboxes"}}, "m2 m3"},
		{"email subject", Selector{EmailSubject: "BUDGET"}, "m2"},
		{"email sender by name", Selector{EmailSender: "ann lee"}, "m1"},
		{"email sender by domain", Selector{EmailSender: "@contoso.com"}, "m1 m3"},
		{"received after, exclusive", Selector{ReceivedAfter: day(12, 0)}, "m3"},
		{"received before, exclusive", Selector{ReceivedBefore: day(12, 0)}, "m1"},
		{"received within", Selector{ReceivedAfter: day(11, 0), ReceivedBefore: day(13, 0)}, "m2"},
		{"event ids", Selector{ItemIDs: []string{"e3"}}, "e3"},
		{"event calendar and its subcalendars", Selector{EventCalendars: []string{"calendar"}}, "e1 e2"},
		{"event calendars are alternatives", Selector{EventCalendars: []string{"Calendar/Team", "Birthdays"}}, "e2 e3"},
		{"event subject", Selector{EventSubject: "PLANNING"}, "e2"},
		{"event organizer", Selector{EventOrganizer: "ann@"}, "e2"},
		{"event starts after, exclusive", Selector{StartsAfter: day(20, 9)}, "e3"},
		{"event starts before, exclusive", Selector{StartsBefore: day(20, 9)}, "e1"},
		{"contact ids", Selector{ItemIDs: []string{"c2"}}, "c2"},
		{"contact folder and its subfolders", Selector{ContactFolders: []string{"Contacts"}}, "c1 c2"},
		{"contact subfolder", Selector{ContactFolders: []string{"contacts/family"}}, "c2"},
		{"contact name", Selector{ContactName: "díaz"}, "c1 c2"},
		{"contact name, one", Selector{ContactName: "dan"}, "c2"},
		{"drive folder from the root", Selector{Folders: []string{"/Reports"}}, "f1"},
		{"drive folder anywhere", Selector{Folders: []string{"reports"}}, "f1 f2"},
		{"drive root folder selects all files", Selector{Folders: []string{"/"}}, "f1 f2 f3"},
		{"file names exactly, any case", Selector{Files: []string{"q1.xlsx"}}, "f1 f3"},
		{"file name is not a substring", Selector{Files: []string{"notes"}}, ""},
		{"library", Selector{Libraries: []string{"shared reports"}}, "f3"},
		{"created after, exclusive", Selector{CreatedAfter: day(5, 0)}, "f3"},
		{"created before, exclusive", Selector{CreatedBefore: day(5, 0)}, "f1"},
		{"modified after", Selector{ModifiedAfter: day(10, 0)}, "f1 f3"},
		{"modified before", Selector{ModifiedBefore: day(10, 0)}, "f2"},
		{"modified within", Selector{ModifiedAfter: day(10, 0), ModifiedBefore: day(20, 0)}, "f1"},
		{"a mail filter selects no events or contacts", Selector{EmailSubject: "r"}, "m1 m2"},
		{"an event filter selects no mail or contacts", Selector{EventOrganizer: "@"}, "e1 e2"},
		{"a contact filter selects no mail or events", Selector{ContactName: "a"}, "c1 c2"},
		{"categories", Selector{Categories: []string{"contacts", "events"}}, "e1 e2 e3 c1 c2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Drive selectors select from a drive backup's files.
			from := exchange
			if tc.sel.Folders != nil || tc.sel.Files != nil || tc.sel.Libraries != nil || !tc.sel.CreatedAfter.IsZero() ||
				!tc.sel.CreatedBefore.IsZero() || !tc.sel.ModifiedAfter.IsZero() || !tc.sel.ModifiedBefore.IsZero() {
				from = drive
			}
			var got []string
			for _, e := range from {
				if tc.sel.Matches(e) {
					got = append(got, e.ItemID)
				}
			}
			if strings.Join(got, " ") != tc.want {
				t.Fatalf("selected %q, want %q", strings.Join(got, " "), tc.want)
			}
		})
	}
}
