package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
)

// probeConcurrency bounds the mailbox probes of a "*" resolution; each
// probe is one small request to a different mailbox.
const probeConcurrency = 8

var userFields = []string{"id", "userPrincipalName", "displayName", "mail", "userType"}

// ResolveMailboxes turns selectors (user ids or UPNs, or "*" for every user
// with a mailbox) into mailboxes, in the order given, without duplicates.
// Selectors naming no user, or a user without a mailbox, make it fail with
// an error wrapping ErrUnknownResource that names all of them.
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
		has, err := c.hasMailbox(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		if !has {
			unknown = append(unknown, fmt.Sprintf("%q (no mailbox)", sel))
			continue
		}
		add(u)
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("resolve mailboxes: %s: %w", strings.Join(unknown, ", "), ErrUnknownResource)
	}
	return out, nil
}

// user looks up one user by id or UPN.
func (c *Client) user(ctx context.Context, key string) (Mailbox, error) {
	u, err := c.sdk.Users().ByUserId(key).Get(ofKind(ctx, "users.get"), &users.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: userFields},
	})
	if err != nil {
		err = classify("look up user "+key, err)
		var ae *apiError
		if errors.As(err, &ae) && ae.status == http.StatusBadRequest {
			// Graph rejects keys that are neither an id nor a UPN.
			ae.kind = ErrUnknownResource
		}
		return Mailbox{}, err
	}
	return mailboxOfUser(u), nil
}

func mailboxOfUser(u models.Userable) Mailbox {
	return Mailbox{ID: deref(u.GetId()), UPN: deref(u.GetUserPrincipalName()), DisplayName: deref(u.GetDisplayName())}
}

// allMailboxes lists the directory's users and keeps those with a mailbox.
// Guests and users without an address cannot have one in this tenant, so
// they are not probed.
func (c *Client) allMailboxes(ctx context.Context) ([]Mailbox, error) {
	var candidates []Mailbox
	top := int32(999)
	resp, err := c.sdk.Users().Get(ofKind(ctx, "users.list"), &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Select: userFields, Top: &top},
	})
	for {
		if err != nil {
			return nil, classify("list users", err)
		}
		for _, u := range resp.GetValue() {
			if strings.EqualFold(deref(u.GetUserType()), "Guest") || deref(u.GetMail()) == "" {
				continue
			}
			candidates = append(candidates, mailboxOfUser(u))
		}
		next := deref(resp.GetOdataNextLink())
		if next == "" {
			break
		}
		resp, err = users.NewUsersRequestBuilder(next, c.adapter).Get(ofKind(ctx, "users.list"), nil)
	}

	has := make([]bool, len(candidates))
	errs := make([]error, len(candidates))
	sem := make(chan struct{}, probeConcurrency)
	var wg sync.WaitGroup
	for i, m := range candidates {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			has[i], errs[i] = c.hasMailbox(ctx, m.ID)
		}()
	}
	wg.Wait()
	var out []Mailbox
	for i, m := range candidates {
		if errs[i] != nil {
			return nil, errs[i]
		}
		if has[i] {
			out = append(out, m)
		}
	}
	return out, nil
}

// hasMailbox probes the user's inbox: it needs only the Mail.Read
// permission a backup needs anyway, and Exchange answers 404 for users
// without a mailbox (MailboxNotEnabledForRESTAPI and kin).
func (c *Client) hasMailbox(ctx context.Context, userID string) (bool, error) {
	_, err := c.sdk.Users().ByUserId(userID).MailFolders().ByMailFolderId("inbox").Get(
		forMailbox(ctx, userID, "mailbox.probe"),
		&users.ItemMailFoldersMailFolderItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.ItemMailFoldersMailFolderItemRequestBuilderGetQueryParameters{Select: []string{"id"}},
		})
	if err == nil {
		return true, nil
	}
	err = classify("probe mailbox of "+userID, err)
	if errors.Is(err, ErrUnknownResource) || errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return false, err
}
