package graph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/corso-temporal/corso/m365"
)

// FetchItem streams the bytes a backup stores for an item:
//
//   - a message: its MIME (GET /users/{id}/messages/{id}/$value);
//   - a contact: the JSON of GET /users/{id}/contacts/{id};
//   - an event: the JSON of beta's GET /users/{id}/events/{id}
//     ?$expand=exceptionOccurrences,attachments, the only form that
//     carries a series' changed and cancelled occurrences, with the
//     event's attachments (file contents included), completed with the
//     items of its item attachments and its exceptions' own attachments
//     (eventatts.go), so that a restore needs nothing else.
//
// An event's reader is also an m365.MetaReader and an m365.DegradedReader:
// a series with so many occurrences that Exchange cannot list its
// exceptions answers that GET with 503 and an empty body, on every attempt
// (Corso skips such events: internal/m365/collection/exchange/
// events_backup.go CanSkipItemFailure, graph/errors.go
// ErrServiceUnavailableEmptyResp), while the same GET without
// exceptionOccurrences works. Its reader is then that GET's answer
// (?$expand=attachments) and reports m365.CauseInstancesUnavailable.
//
// Nothing is buffered but events with attachments and series masters,
// which are read whole to be completed: the caller reads the answer as it
// arrives and must Close it promptly, because until then it holds one of
// the mailbox's request slots. A missing item fails with ErrNotFound.
func (c *Client) FetchItem(ctx context.Context, mailboxID string, cat Category, itemID string) (io.ReadCloser, error) {
	op := fmt.Sprintf("fetch %s item %s of %s", cat, itemID, mailboxID)
	user := c.sdk.Users().ByUserId(mailboxID)
	var send func(opts []abs.RequestOption) error
	switch cat {
	case Email:
		send = func(opts []abs.RequestOption) error {
			_, err := user.Messages().ByMessageId(itemID).Content().Get(forMailbox(ctx, mailboxID, "message.mime"),
				&users.ItemMessagesItemValueContentRequestBuilderGetRequestConfiguration{Options: opts})
			return err
		}
	case Contacts:
		send = func(opts []abs.RequestOption) error {
			_, err := user.Contacts().ByContactId(itemID).Get(forMailbox(ctx, mailboxID, "contact.get"),
				&users.ItemContactsContactItemRequestBuilderGetRequestConfiguration{Options: opts})
			return err
		}
	case Events:
		return c.fetchEvent(ctx, op, mailboxID, itemID)
	default:
		return nil, fmt.Errorf("%s: unknown category", op)
	}
	resp, err := unread(op, send)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, responseError(op, resp)
	}
	return resp.Body, nil
}

// FetchItemIn streams the bytes a backup stores for an item of a
// container. Items of a mailbox are addressed by the mailbox alone
// (FetchItem); a channel message only within its channel, and its thread
// is the message with every reply (channels.go); a list item only within
// its list, stored with its versions (lists.go).
func (c *Client) FetchItemIn(ctx context.Context, resourceID string, cat Category, containerID, itemID string) (io.ReadCloser, error) {
	switch cat {
	case m365.ChannelMessages:
		return c.fetchThread(ctx, resourceID, containerID, itemID)
	case m365.ListItems:
		return c.fetchListItem(ctx, resourceID, containerID, itemID)
	case m365.Conversations:
		return c.fetchPost(ctx, resourceID, containerID, itemID)
	}
	return c.FetchItem(ctx, resourceID, cat, itemID)
}

// Request kinds of an event's GETs: the whole event, and the event without
// the exceptions Exchange could not list.
const (
	kindEventGet      = "event.get"
	kindEventGetPlain = "event.get.withoutExceptions"
)

// fetchEvent GETs an event with its exceptions and attachments, or, when
// Exchange cannot list the exceptions of the series, with its attachments
// alone (see FetchItem).
func (c *Client) fetchEvent(ctx context.Context, op, mailboxID, itemID string) (io.ReadCloser, error) {
	get := func(kind, expand string) (*http.Response, error) {
		raw := c.betaRoot + "/users/" + url.PathEscape(mailboxID) + "/events/" + url.PathEscape(itemID) + "?$expand=" + expand
		return unread(op, func(opts []abs.RequestOption) error {
			_, err := users.NewItemEventsEventItemRequestBuilder(raw, c.adapter).Get(forMailbox(ctx, mailboxID, kind),
				&users.ItemEventsEventItemRequestBuilderGetRequestConfiguration{Options: opts})
			return err
		})
	}
	// A refusal is taken for the series' own only when it comes again: a
	// passing empty 503 must not store an event without its exceptions.
	for attempt := 1; ; attempt++ {
		resp, err := get(kindEventGet, "exceptionOccurrences,attachments")
		if err != nil {
			return nil, err
		}
		if resp.StatusCode == http.StatusOK {
			return c.completeEvent(ctx, op, mailboxID, itemID, resp.Body, "")
		}
		if !instancesRefused(resp) {
			return nil, responseError(op, resp)
		}
		discard(resp)
		if attempt == instancesAttempts {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(instancesPause):
		}
	}
	resp, err := get(kindEventGetPlain, "attachments")
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, responseError(op+" without its exceptions", resp)
	}
	return c.completeEvent(ctx, op, mailboxID, itemID, resp.Body, m365.CauseInstancesUnavailable)
}

// How often, and how far apart, an event's exceptions are asked for before
// the refusal is taken for the series' own.
const (
	instancesAttempts = 2
	instancesPause    = 500 * time.Millisecond
)

// instancesRefused reports whether an event GET that expands
// exceptionOccurrences was answered as Exchange answers it for a series
// with too many occurrences: 503 with an empty body (Corso tells it by
// Content-Length 0: graph/errors.go stackReq, ErrServiceUnavailableEmptyResp).
// Throttling's 503s carry an error body, and a Retry-After the client
// waits out.
func instancesRefused(resp *http.Response) bool {
	return resp.StatusCode == http.StatusServiceUnavailable &&
		(resp.ContentLength == 0 || len(bytes.TrimSpace(peek(resp))) == 0)
}

// unread makes one request through the SDK and takes its answer unread,
// whatever its status, after the whole pipeline (auth, retries, limits)
// has run: the SDK would read whole bodies into memory ([]byte for $value,
// a model for JSON). A failure without an answer comes back classified.
func unread(op string, send func(opts []abs.RequestOption) error) (*http.Response, error) {
	var resp *http.Response
	handler := abs.NewRequestHandlerOption()
	handler.SetResponseHandler(func(r any, _ abs.ErrorMappings) (any, error) {
		resp, _ = r.(*http.Response)
		return nil, nil
	})
	if err := send([]abs.RequestOption{handler}); err != nil {
		if resp != nil {
			_ = resp.Body.Close()
		}
		return nil, classify(op, err)
	}
	if resp == nil {
		return nil, errors.New(op + ": the SDK returned no response")
	}
	return resp, nil
}
