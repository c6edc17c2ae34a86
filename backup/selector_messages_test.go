package backup

import (
	"slices"
	"testing"
	"time"
)

// TestSelectorMatchesChannelThreads: threads are selected by channel,
// sender, text and the time they were started, and no Exchange filter
// selects them.
func TestSelectorMatchesChannelThreads(t *testing.T) {
	jan := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	all := []Entry{
		{ItemID: "t1", Category: ChannelMessagesCategory, Path: []string{"General"}, Subject: "Release plan", Sender: "Ann Lee", Received: jan},
		{ItemID: "t2", Category: ChannelMessagesCategory, Path: []string{"Design / UX"}, Subject: "New icons", Sender: "Bob Roy", Received: jan.Add(48 * time.Hour)},
		{ItemID: "m1", Category: "email", Path: []string{"Inbox"}, Subject: "Release plan", Sender: "Ann Lee", Received: jan},
	}
	for _, tc := range []struct {
		name string
		sel  Selector
		want []string
	}{
		{"channel by name", Selector{Categories: []string{ChannelMessagesCategory}, Channels: []string{"general"}}, []string{"t1"}},
		{"sender", Selector{Categories: []string{ChannelMessagesCategory}, MessageSender: "bob"}, []string{"t2"}},
		{"text", Selector{Categories: []string{ChannelMessagesCategory}, MessageText: "release"}, []string{"t1"}},
		{"started after", Selector{Categories: []string{ChannelMessagesCategory}, PostedAfter: jan.Add(time.Hour)}, []string{"t2"}},
		{"started before", Selector{Categories: []string{ChannelMessagesCategory}, PostedBefore: jan.Add(time.Hour)}, []string{"t1"}},
		{"an email filter does not select threads", Selector{EmailSender: "ann"}, []string{"m1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, e := range all {
				if tc.sel.Matches(e) {
					got = append(got, e.ItemID)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	if err := (Selector{PostedAfter: jan, PostedBefore: jan}).Validate(); err == nil {
		t.Fatal("an empty time range validated")
	}
}
