package backup

import (
	"slices"
	"testing"
	"time"
)

// TestSelectorMatchesConversationPosts: posts are selected by their
// conversation's topic, and by the sender, text and time that select
// channel threads too; a channel selects no posts, a conversation no
// threads, and no Exchange filter selects posts.
func TestSelectorMatchesConversationPosts(t *testing.T) {
	jan := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	all := []Entry{
		{ItemID: "p1", Category: ConversationsCategory, Path: []string{"Budget 2026", "thread-0a1b2c3d"}, Subject: "Budget 2026", Sender: "Ann Lee", Received: jan},
		{ItemID: "p2", Category: ConversationsCategory, Path: []string{"Office move", "thread-99aa88bb"}, Subject: "Office move", Sender: "Bob Roy", Received: jan.Add(48 * time.Hour)},
		{ItemID: "t1", Category: ChannelMessagesCategory, Path: []string{"General"}, Subject: "Budget talk", Sender: "Ann Lee", Received: jan},
		{ItemID: "m1", Category: "email", Path: []string{"Inbox"}, Subject: "Budget 2026", Sender: "Ann Lee", Received: jan},
	}
	for _, tc := range []struct {
		name string
		sel  Selector
		want []string
	}{
		{"every category of a groups backup", Selector{Categories: []string{ChannelMessagesCategory, ConversationsCategory}}, []string{"p1", "p2", "t1"}},
		{"conversation by topic", Selector{Conversations: []string{"budget"}}, []string{"p1"}},
		{"sender selects posts and threads", Selector{MessageSender: "ann"}, []string{"p1", "t1"}},
		{"text selects posts by topic", Selector{MessageText: "office"}, []string{"p2"}},
		{"posted after", Selector{Categories: []string{ConversationsCategory}, PostedAfter: jan.Add(time.Hour)}, []string{"p2"}},
		{"a channel selects no posts", Selector{Channels: []string{"General"}, MessageSender: "ann"}, []string{"t1"}},
		{"a conversation selects no threads", Selector{Conversations: []string{"budget"}, MessageSender: "ann"}, []string{"p1"}},
		{"an email filter does not select posts", Selector{EmailSender: "ann"}, []string{"m1"}},
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
	if err := (Selector{Categories: []string{ConversationsCategory}}).Validate(); err != nil {
		t.Fatal(err)
	}
}
