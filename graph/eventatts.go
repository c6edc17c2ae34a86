package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	abs "github.com/microsoft/kiota-abstractions-go"

	"github.com/corso-temporal/corso/m365"
)

// An event's GET with $expand=exceptionOccurrences,attachments leaves out
// two parts of it, which a backup fetches on its own (Corso does the same:
// src/pkg/services/m365/api/events.go GetItem, fixupExceptionOccurrences):
//
//   - an item attachment (an attached mail, event or contact) comes
//     without its item unless the request says
//     $expand=microsoft.graph.itemattachment/item, which the attachments
//     list takes (learn.microsoft.com/graph/api/attachment-get);
//   - an exception has attachments of its own, listed at its own id and
//     not carried by the expanded exceptions.
//
// The stored event gets the attachments list in place of its expanded
// attachments when one of them is an item attachment without its item,
// and each exception whose hasAttachments is true its list as its last
// property, attachments. Only events that may need this are read whole
// first: those with attachments and series masters; others stream.

const kindEventAttachments = "event.attachments"

// itemAttachmentExpand is the $expand that gives item attachments their
// items.
const itemAttachmentExpand = "microsoft.graph.itemattachment/item"

// completeEvent returns the reader of an event GET's answer, completed as
// above. body is closed before any other request is made, so that it does
// not hold a mailbox slot meanwhile.
func (c *Client) completeEvent(ctx context.Context, op, mailboxID, itemID string, body io.ReadCloser, degraded m365.Cause) (io.ReadCloser, error) {
	head := make([]byte, eventHeadSize)
	n, err := io.ReadFull(body, head)
	head = head[:n]
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		_ = body.Close()
		return brokenOff(head, err, degraded), nil
	}
	if !mayNeedCompleting(head) {
		return &eventMetaReader{ReadCloser: struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(head), body), body}, degraded: degraded}, nil
	}
	rest, err := io.ReadAll(body)
	_ = body.Close()
	all := append(head, rest...)
	if err != nil {
		return brokenOff(all, err, degraded), nil
	}
	o, err := parseObject(all)
	if err != nil {
		return nil, fmt.Errorf("%s: unreadable event: %w", op, err)
	}
	changed := false
	atts, err := objects(o.get("attachments"))
	if err != nil {
		return nil, fmt.Errorf("%s: unreadable attachments: %w", op, err)
	}
	for _, a := range atts {
		if isItemAttachment(a) && !a.has("item") {
			list, err := c.eventAttachments(ctx, op, mailboxID, itemID)
			if brokeOff(ctx, err) {
				return brokenOff(all, err, degraded), nil
			}
			if err != nil {
				return nil, err
			}
			o, changed = o.with("attachments", list), true
			break
		}
	}
	exceptions, err := objects(o.get("exceptionOccurrences"))
	if err != nil {
		return nil, fmt.Errorf("%s: unreadable exceptions: %w", op, err)
	}
	exChanged := false
	for i, ex := range exceptions {
		if string(ex.get("hasAttachments")) != "true" {
			continue
		}
		list, err := c.eventAttachments(ctx, op, mailboxID, ex.str("id"))
		if brokeOff(ctx, err) {
			return brokenOff(all, err, degraded), nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: attachments of exception %s: %w", op, ex.str("id"), err)
		}
		exceptions[i], exChanged = ex.with("attachments", list), true
	}
	if exChanged {
		o, changed = o.with("exceptionOccurrences", arrayOf(exceptions)), true
	}
	if changed {
		all = o.bytes()
	}
	return &eventMetaReader{ReadCloser: io.NopCloser(bytes.NewReader(all)), degraded: degraded}, nil
}

// brokenOff is the reader of an answer that broke off after read: it
// gives what came and then the read's error, as the answer's own body
// would have, so that the caller tries the download again.
func brokenOff(read []byte, err error, degraded m365.Cause) io.ReadCloser {
	return &eventMetaReader{ReadCloser: io.NopCloser(io.MultiReader(bytes.NewReader(read), failingReader{err})), degraded: degraded}
}

// brokeOff tells an answer that broke off (the connection, not Graph,
// failed) from Graph's own refusals.
func brokeOff(ctx context.Context, err error) bool {
	var ae *apiError
	var te *ThrottledError
	return err != nil && ctx.Err() == nil && !errors.As(err, &ae) && !errors.As(err, &te)
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

// mayNeedCompleting reads an event's own properties, which Graph writes
// before its expanded ones, from the first bytes of its JSON: an event
// with attachments may have item attachments, a series master exceptions
// with attachments. When those bytes do not tell, it may.
func mayNeedCompleting(head []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(head))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return true
	}
	var typ, hasAtt json.RawMessage
	for dec.More() && (typ == nil || hasAtt == nil) {
		t, err := dec.Token()
		if err != nil {
			return true
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return true
		}
		switch t {
		case "type":
			typ = raw
		case "hasAttachments":
			hasAtt = raw
		}
	}
	if typ == nil || hasAtt == nil {
		return true
	}
	return string(hasAtt) != "false" || string(typ) == `"seriesMaster"`
}

func isItemAttachment(a jsonObject) bool {
	return strings.EqualFold(strings.TrimPrefix(a.str("@odata.type"), "#"), "microsoft.graph.itemAttachment")
}

// eventAttachments lists the attachments of an event or occurrence with
// their items, as raw JSON: the list's value when it has one page.
func (c *Client) eventAttachments(ctx context.Context, op, mailboxID, eventID string) (json.RawMessage, error) {
	ctx = forMailbox(ctx, mailboxID, kindEventAttachments)
	link := c.beta("users", mailboxID, "events", eventID, "attachments") + "?" +
		query(url.Values{"$expand": {itemAttachmentExpand}})
	var pages []json.RawMessage
	for link != "" {
		a, err := c.send(ctx, op, rawCall{method: abs.GET, url: link})
		if err != nil {
			return nil, err
		}
		page, err := parseObject(a.body)
		if err != nil {
			return nil, fmt.Errorf("%s: unreadable attachments: %w", op, err)
		}
		pages = append(pages, page.get("value"))
		link = page.str("@odata.nextLink")
	}
	if len(pages) == 1 && len(pages[0]) > 0 {
		return pages[0], nil
	}
	var all []jsonObject
	for _, p := range pages {
		list, err := objects(p)
		if err != nil {
			return nil, fmt.Errorf("%s: unreadable attachments: %w", op, err)
		}
		all = append(all, list...)
	}
	return arrayOf(all), nil
}

// arrayOf encodes objects as a JSON array, each as it is.
func arrayOf(list []jsonObject) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, o := range list {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(o.bytes())
	}
	b.WriteByte(']')
	return b.Bytes()
}

// restoreExceptionAttachments adds an exception's own attachments, as the
// backup stored them, to the occurrence of the new series that carries
// it. Exchange copies a series' attachments into an exception when it is
// made (Corso's events_restore.go updateAttachments deletes those
// "automatically inherited from series master"), so an attachment the
// occurrence already has (the same kind, name and content) is not added
// again.
func (c *Client) restoreExceptionAttachments(ctx context.Context, op, mailboxID, occurrenceID string, ex jsonObject) error {
	atts, err := objects(ex.get("attachments"))
	if err != nil {
		return fmt.Errorf("%s: stored exception attachments: %w: %v", op, ErrUnrestorable, err)
	}
	if len(atts) == 0 {
		return nil
	}
	raw, err := c.eventAttachments(ctx, op, mailboxID, occurrenceID)
	if err != nil {
		return err
	}
	have, err := objects(raw)
	if err != nil {
		return fmt.Errorf("%s: unreadable attachments of occurrence %s: %w", op, occurrenceID, err)
	}
	same := func(a, b jsonObject) bool {
		return strings.EqualFold(a.str("@odata.type"), b.str("@odata.type")) && a.str("name") == b.str("name") &&
			a.str("contentBytes") == b.str("contentBytes")
	}
next:
	for i, att := range atts {
		for _, h := range have {
			if same(att, h) {
				continue next
			}
		}
		if err := c.addAttachment(ctx, op, mailboxID, occurrenceID, att); err != nil {
			return fmt.Errorf("attachment %d (%q) of exception %s: %w", i, att.str("name"), ex.str("originalStart"), err)
		}
	}
	return nil
}
