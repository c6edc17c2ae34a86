package graph

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
)

// FetchItem streams the bytes a backup stores for an item:
//
//   - a message: its MIME (GET /users/{id}/messages/{id}/$value);
//   - a contact: the JSON of GET /users/{id}/contacts/{id};
//   - an event: the JSON of beta's GET /users/{id}/events/{id}
//     ?$expand=exceptionOccurrences,attachments, the only form that
//     carries a series' changed and cancelled occurrences, with the
//     event's attachments (file contents included) so that a restore
//     needs nothing else.
//
// An event's reader is also an m365.MetaReader. Nothing is buffered: the
// caller reads the answer as it arrives and must Close it promptly,
// because until then it holds one of the mailbox's request slots. A
// missing item fails with ErrNotFound.
func (c *Client) FetchItem(ctx context.Context, mailboxID string, cat Category, itemID string) (io.ReadCloser, error) {
	op := fmt.Sprintf("fetch %s item %s of %s", cat, itemID, mailboxID)
	// The SDK reads whole bodies into memory ([]byte for $value, a model
	// for JSON). A response handler takes the answer from it unread, after
	// the whole pipeline (auth, retries, limits) has run.
	var resp *http.Response
	handler := abs.NewRequestHandlerOption()
	handler.SetResponseHandler(func(r any, _ abs.ErrorMappings) (any, error) {
		resp, _ = r.(*http.Response)
		return nil, nil
	})
	opts := []abs.RequestOption{handler}
	user := c.sdk.Users().ByUserId(mailboxID)
	var err error
	switch cat {
	case Email:
		_, err = user.Messages().ByMessageId(itemID).Content().Get(forMailbox(ctx, mailboxID, "message.mime"),
			&users.ItemMessagesItemValueContentRequestBuilderGetRequestConfiguration{Options: opts})
	case Contacts:
		_, err = user.Contacts().ByContactId(itemID).Get(forMailbox(ctx, mailboxID, "contact.get"),
			&users.ItemContactsContactItemRequestBuilderGetRequestConfiguration{Options: opts})
	case Events:
		raw := c.betaRoot + "/users/" + url.PathEscape(mailboxID) + "/events/" + url.PathEscape(itemID) +
			"?$expand=exceptionOccurrences,attachments"
		_, err = users.NewItemEventsEventItemRequestBuilder(raw, c.adapter).Get(forMailbox(ctx, mailboxID, "event.get"),
			&users.ItemEventsEventItemRequestBuilderGetRequestConfiguration{Options: opts})
	default:
		return nil, fmt.Errorf("%s: unknown category", op)
	}
	if err != nil {
		if resp != nil {
			_ = resp.Body.Close()
		}
		return nil, classify(op, err)
	}
	if resp == nil {
		return nil, errors.New(op + ": the SDK returned no response")
	}
	if resp.StatusCode != http.StatusOK {
		return nil, responseError(op, resp)
	}
	if cat == Events {
		return &eventMetaReader{ReadCloser: resp.Body}, nil
	}
	return resp.Body, nil
}
