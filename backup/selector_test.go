package backup

import (
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
