package graph

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
)

// The directory's users, which own mailboxes and OneDrives: one lookup and
// one listing for every service that resolves users.

var userFields = []string{"id", "userPrincipalName", "displayName", "mail", "userType"}

// probeConcurrency bounds the probes of a "*" resolution; each probe is
// one small request about a different resource.
const probeConcurrency = 8

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

// directoryUser is a listed user: who it is, and what says it cannot own
// a mailbox or a drive in this tenant without probing.
type directoryUser struct {
	Mailbox
	guest   bool
	hasMail bool
}

// listUsers lists every user of the directory, in Graph's order.
func (c *Client) listUsers(ctx context.Context) ([]directoryUser, error) {
	var dir []directoryUser
	top := int32(999)
	resp, err := c.sdk.Users().Get(ofKind(ctx, "users.list"), &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Select: userFields, Top: &top},
	})
	for {
		if err != nil {
			return nil, classify("list users", err)
		}
		for _, u := range resp.GetValue() {
			dir = append(dir, directoryUser{
				Mailbox: mailboxOfUser(u),
				guest:   strings.EqualFold(deref(u.GetUserType()), "Guest"),
				hasMail: deref(u.GetMail()) != "",
			})
		}
		next := deref(resp.GetOdataNextLink())
		if next == "" {
			return dir, nil
		}
		resp, err = users.NewUsersRequestBuilder(next, c.adapter).Get(ofKind(ctx, "users.list"), nil)
	}
}

// probeAll runs probe(i) for every i marked, probeConcurrency at a time.
func (c *Client) probeAll(marked []bool, probe func(int)) {
	sem := make(chan struct{}, probeConcurrency)
	var wg sync.WaitGroup
	for i, m := range marked {
		if !m {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			probe(i)
		}()
	}
	wg.Wait()
}
