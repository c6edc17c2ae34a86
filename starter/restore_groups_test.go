package main

import (
	"strings"
	"testing"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/workflows"
)

// TestRestoreGroupsInput: `restore groups` restores channel threads only,
// into channels whose names Teams accepts, and refuses at once what Graph
// cannot do: conversation posts, and replacing or copying a thread.
func TestRestoreGroupsInput(t *testing.T) {
	ok := restoreFlags{id: "b1", collisions: workflows.CollisionSkip}
	in, err := groupsRestoreInput(ok, messageSelectorFlags{channels: []string{"General"}})
	if err != nil {
		t.Fatal(err)
	}
	if in.Service != m365.Groups || len(in.Selector.Categories) != 1 || in.Selector.Categories[0] != backup.ChannelMessagesCategory {
		t.Fatalf("input %+v", in)
	}
	if strings.ContainsAny(in.Destination, ":/") || !strings.HasPrefix(in.Destination, "Corso_Restore_") {
		t.Fatalf("default destination %q is no channel name", in.Destination)
	}
	for _, tc := range []struct {
		name  string
		f     restoreFlags
		sel   messageSelectorFlags
		wants []string
	}{
		{"conversations only", ok, messageSelectorFlags{conversations: []string{"Budget"}}, []string{"cannot be restored", "corso export groups"}},
		{"replace", restoreFlags{id: "b1", collisions: workflows.CollisionReplace}, messageSelectorFlags{}, []string{"--collisions replace", "delete a channel message"}},
		{"copy", restoreFlags{id: "b1", collisions: workflows.CollisionCopy}, messageSelectorFlags{}, []string{"--collisions copy", "one message per creation time"}},
	} {
		_, err := groupsRestoreInput(tc.f, tc.sel)
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Fatalf("%s: %v, want a one-line error", tc.name, err)
		}
		for _, w := range tc.wants {
			if !strings.Contains(err.Error(), w) {
				t.Fatalf("%s: %q does not say %q", tc.name, err, w)
			}
		}
	}
}

// TestRestoredWhereNamesTheContainersOfTheCategory: the summary says a
// channel's threads went into a new channel, a list's items into a new
// list, mail into folders, or the originals in place.
func TestRestoredWhereNamesTheContainersOfTheCategory(t *testing.T) {
	of := func(cat m365.Category, dest string) string {
		return restoredWhere(workflows.RestoreResult{Destination: dest, Categories: []workflows.CategoryCounts{{Category: cat}}})
	}
	for _, tc := range []struct {
		cat        m365.Category
		dest, want string
	}{
		{m365.ChannelMessages, "R1", `into new channels named after each with " R1" appended`},
		{m365.ListItems, "R1", `into new lists named after each with " R1" appended`},
		{m365.Email, "R1", "into folders named R1"},
		{m365.ChannelMessages, workflows.InPlace, "into the original channels"},
		{m365.Contacts, workflows.InPlace, "into the original folders"},
	} {
		if got := of(tc.cat, tc.dest); got != tc.want {
			t.Errorf("%s to %q: %q, want %q", tc.cat, tc.dest, got, tc.want)
		}
	}
}
