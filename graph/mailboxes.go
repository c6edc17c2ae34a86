package graph

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/corso-temporal/corso/m365"
)

// ResolveMailboxes turns selectors (user ids or UPNs, or "*" for every
// user) into mailboxes, in the order given, without duplicates. "*" also
// returns the users it leaves out, marked Unavailable with the cause
// (guest, no licence, no mailbox, on premises), so the run can report
// them. Selectors naming no user, or a user without a mailbox, make it
// fail with an error wrapping ErrUnknownResource that names all of them.
// A mailbox the app is denied is returned like any other: its backup
// fails alone. When the app is denied every mailbox it probed, the app
// lacks consent, and the resolution fails with ErrAuth.
func (c *Client) ResolveMailboxes(ctx context.Context, selectors []string) ([]Mailbox, error) {
	var out []Mailbox
	seen := map[string]bool{}
	add := func(m Mailbox) {
		if !seen[strings.ToLower(m.ID)] {
			seen[strings.ToLower(m.ID)] = true
			out = append(out, m)
		}
	}
	var unknown []string
	for _, sel := range selectors {
		sel = strings.TrimSpace(sel)
		switch {
		case sel == "":
			continue
		case sel == "*":
			all, err := c.allMailboxes(ctx)
			if err != nil {
				return nil, err
			}
			for _, m := range all {
				add(m)
			}
			continue
		}
		u, err := c.user(ctx, sel)
		if errors.Is(err, ErrUnknownResource) || errors.Is(err, ErrNotFound) {
			unknown = append(unknown, fmt.Sprintf("%q (no such user)", sel))
			continue
		}
		if err != nil {
			return nil, err
		}
		m, err := c.probeMailbox(ctx, u)
		if err != nil {
			return nil, err
		}
		if m.Unavailable != "" {
			unknown = append(unknown, fmt.Sprintf("%q (%s)", sel, m.Unavailable.Describe()))
			continue
		}
		add(m)
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("resolve mailboxes: %s: %w", strings.Join(unknown, ", "), ErrUnknownResource)
	}
	return out, nil
}

// allMailboxes lists the directory's users, each with a mailbox or
// marked Unavailable. Guests and users without an address cannot have a
// mailbox in this tenant, so they are not probed.
func (c *Client) allMailboxes(ctx context.Context) ([]Mailbox, error) {
	dir, err := c.listUsers(ctx)
	if err != nil {
		return nil, err
	}
	all := make([]Mailbox, len(dir))
	errs := make([]error, len(dir))
	probe := make([]bool, len(dir))
	for i, u := range dir {
		all[i] = u.Mailbox
		if u.guest || !u.hasMail {
			all[i].Unavailable = m365.CauseNoMailbox
		} else {
			probe[i] = true
		}
	}
	c.probeAll(probe, func(i int) { all[i], errs[i] = c.probeMailbox(ctx, all[i]) })
	probed, denied := 0, 0
	for i, m := range all {
		if errs[i] != nil {
			return nil, errs[i]
		}
		if m.Unavailable == "" || m.Unavailable == m365.CauseAccessDenied {
			probed++
		}
		if m.Unavailable == m365.CauseAccessDenied {
			denied++
			all[i].Unavailable = "" // its own backup fails, saying why
		}
	}
	if probed > 0 && denied == probed {
		return nil, fmt.Errorf("resolve mailboxes: Exchange denied the app every mailbox (grant the Mail.Read, Contacts.Read and Calendars.Read application permissions with admin consent, and check application access policies): %w", ErrAuth)
	}
	return all, nil
}

// probeMailbox probes the user's inbox: it needs only the Mail.Read
// permission a backup needs anyway. Exchange answers users without a
// mailbox in several ways (404 MailboxNotEnabledForRESTAPI, 401
// AuthenticationError for unlicensed users); the answer's cause marks the
// mailbox Unavailable. A mailbox the app is denied is marked with
// CauseAccessDenied; other failures are errors.
func (c *Client) probeMailbox(ctx context.Context, m Mailbox) (Mailbox, error) {
	_, err := c.sdk.Users().ByUserId(m.ID).MailFolders().ByMailFolderId("inbox").Get(
		forMailbox(ctx, m.ID, "mailbox.probe"),
		&users.ItemMailFoldersMailFolderItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.ItemMailFoldersMailFolderItemRequestBuilderGetQueryParameters{Select: []string{"id"}},
		})
	if err == nil {
		return m, nil
	}
	err = classify("probe mailbox of "+m.ID, err)
	switch class, cause := m365.FaultOf(err); {
	case class == m365.ResourceUnavailable:
		m.Unavailable = cause
		return m, nil
	case class == m365.ResourceDenied:
		m.Unavailable = m365.CauseAccessDenied
		return m, nil
	case errors.Is(err, ErrUnknownResource) || errors.Is(err, ErrNotFound):
		m.Unavailable = m365.CauseNoMailbox
		return m, nil
	}
	return m, err
}
