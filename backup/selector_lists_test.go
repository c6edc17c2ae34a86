package backup

import (
	"slices"
	"testing"
	"time"
)

// TestSelectorMatchesListItems: list items are selected by their list's
// name, text in their title and when they were last modified.
func TestSelectorMatchesListItems(t *testing.T) {
	jan := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	all := []Entry{
		{ItemID: "1", Category: ListItemsCategory, Path: []string{"Issue tracker"}, Subject: "Printer jam", ModTime: jan},
		{ItemID: "2", Category: ListItemsCategory, Path: []string{"Issue tracker"}, Subject: "VPN down", ModTime: jan.Add(48 * time.Hour)},
		{ItemID: "3", Category: ListItemsCategory, Path: []string{"Contacts list"}, Subject: "Ann Lee", ModTime: jan},
	}
	for _, tc := range []struct {
		name string
		sel  Selector
		want []string
	}{
		{"everything", Selector{}, []string{"1", "2", "3"}},
		{"list by name, any case", Selector{Lists: []string{"issue TRACKER"}}, []string{"1", "2"}},
		{"a list name is whole, not a part", Selector{Lists: []string{"Issue"}}, nil},
		{"title text", Selector{ItemTitle: "vpn"}, []string{"2"}},
		{"modified after", Selector{ItemModifiedAfter: jan.Add(time.Hour)}, []string{"2"}},
		{"modified before", Selector{ItemModifiedBefore: jan.Add(time.Hour)}, []string{"1", "3"}},
		{"list and title together", Selector{Lists: []string{"Contacts list"}, ItemTitle: "printer"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, e := range all {
				if tc.sel.Matches(e) {
					got = append(got, e.ItemID)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("selected %v, want %v", got, tc.want)
			}
		})
	}
	if err := (Selector{ItemModifiedAfter: jan, ItemModifiedBefore: jan}).Validate(); err == nil {
		t.Fatal("an empty modification window was accepted")
	}
}
