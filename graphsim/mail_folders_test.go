package graphsim

import "testing"

// TestAMailboxOfThousandsOfFolders: with MailFolders, the mailbox's
// folder hierarchy delta lists that many custom folders besides the
// well-known ones, and their item counts add up to the mailbox's mail.
func TestAMailboxOfThousandsOfFolders(t *testing.T) {
	const folders, items = 3000, 6000
	h := newHarness(t, Options{Tenant: TenantOptions{Users: 1, ItemsPerUser: items, Mix: ItemMix{Mail: 1}, Clean: true, MailFolders: folders}})
	listed, _, _ := h.deltaRound("users/" + h.user(0) + "/mailFolders/delta")
	if want := folders + len(wellKnownMail); len(listed) != want {
		t.Fatalf("%d folders listed, want %d", len(listed), want)
	}
	var total float64
	for _, f := range listed {
		n, _ := f["totalItemCount"].(float64)
		total += n
	}
	if total != items {
		t.Fatalf("the folders hold %v messages, want %d", total, items)
	}
}
