package m365

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	// Keys must not depend on the zone database of the machine computing
	// them.
	_ "time/tzdata"
)

// A restore must not duplicate what its target already holds. Whether an
// item "already exists" is decided, as Corso decides it, by a collision key
// over a few metadata properties, never by content: Exchange rewrites
// content on the way in (ids, change keys, HTML bodies), while the
// properties below survive a restore unchanged. The key of a backed-up item
// is computed from its stored bytes (StoredItemKey), the key of an item in
// the target from the properties Graph lists (MailKey, ContactKey,
// EventKey); equal keys mean the same item.
//
// Keys are opaque: the hex SHA-256 of a canonical encoding of the
// properties, so they stay short whatever the subjects are.

// ExistingItem is an item already in a restore target.
type ExistingItem struct {
	ID      string
	Key     string // collision key
	Created time.Time
}

// ErrUnrestorable: Graph refused to create an item for a reason retrying
// cannot fix (content it cannot accept, an item too large). Final for that
// item.
var ErrUnrestorable = errors.New("cannot be restored")

// MailKey is the collision key of a message: its subject and when it was
// sent, to the second.
func MailKey(subject string, sent time.Time) string {
	return collisionKey("mail", subject, keyTime(sent))
}

// ContactKey is the collision key of a contact: given name, surname, email
// addresses (compared without case or order) and mobile phone.
func ContactKey(given, surname string, emails []string, mobile string) string {
	norm := make([]string, 0, len(emails))
	for _, e := range emails {
		if e = strings.ToLower(strings.TrimSpace(e)); e != "" {
			norm = append(norm, e)
		}
	}
	sort.Strings(norm)
	fields := []string{given, surname, mobile, strconv.Itoa(len(norm))}
	return collisionKey("contact", append(fields, norm...)...)
}

// EventKey is the collision key of an event: subject, type (singleInstance,
// seriesMaster, ...), start and end to the second, the recurrence pattern's
// type ("" for a single event), and whether it is a draft or cancelled.
func EventKey(subject, typ string, start, end time.Time, recurrenceType string, draft, cancelled bool) string {
	return collisionKey("event", subject, typ, keyTime(start), keyTime(end), recurrenceType,
		strconv.FormatBool(draft), strconv.FormatBool(cancelled))
}

// StoredItemKey computes the collision key of a backed-up item from the
// bytes its backup stored: a message's MIME, a contact's or an event's
// JSON.
func StoredItemKey(cat Category, stored []byte) (string, error) {
	switch cat {
	case Email:
		return storedMailKey(stored)
	case ListItems:
		return storedListItemKey(stored)
	case ChannelMessages:
		return storedThreadKey(stored)
	case Contacts:
		var c struct {
			GivenName      string `json:"givenName"`
			Surname        string `json:"surname"`
			MobilePhone    string `json:"mobilePhone"`
			EmailAddresses []struct {
				Address string `json:"address"`
			} `json:"emailAddresses"`
		}
		if err := json.Unmarshal(stored, &c); err != nil {
			return "", fmt.Errorf("collision key of a stored contact: %w", err)
		}
		emails := make([]string, 0, len(c.EmailAddresses))
		for _, e := range c.EmailAddresses {
			emails = append(emails, e.Address)
		}
		return ContactKey(c.GivenName, c.Surname, emails, c.MobilePhone), nil
	case Events:
		var e struct {
			Subject     string         `json:"subject"`
			Type        string         `json:"type"`
			Start       *graphDateTime `json:"start"`
			End         *graphDateTime `json:"end"`
			IsDraft     bool           `json:"isDraft"`
			IsCancelled bool           `json:"isCancelled"`
			Recurrence  *struct {
				Pattern *struct {
					Type string `json:"type"`
				} `json:"pattern"`
			} `json:"recurrence"`
		}
		if err := json.Unmarshal(stored, &e); err != nil {
			return "", fmt.Errorf("collision key of a stored event: %w", err)
		}
		rec := ""
		if e.Recurrence != nil && e.Recurrence.Pattern != nil {
			rec = e.Recurrence.Pattern.Type
		}
		return EventKey(e.Subject, e.Type, e.Start.time(), e.End.time(), rec, e.IsDraft, e.IsCancelled), nil
	}
	return "", fmt.Errorf("collision key: unknown category %q", cat)
}

// ThreadKey is the collision key of a channel thread: its first
// message's author (user id), creation time to the millisecond and body,
// and how many replies it has. A restore imports each message as its
// author at its time, so all of these survive it; the reply count tells a
// thread whose replies are not all there yet from a whole one. The body
// is hashed without its inline images' addresses, which an import
// assigns anew.
func ThreadKey(authorID string, created time.Time, body string, replies int) string {
	sum := sha256.Sum256([]byte(hostedContentAddress.ReplaceAllString(body, "hostedContents")))
	return collisionKey("thread", authorID, created.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z"),
		hex.EncodeToString(sum[:]), strconv.Itoa(replies))
}

// hostedContentAddress is an inline image's address in a message body:
// Graph's .../hostedContents/{id}/$value, or an import's
// ../hostedContents/{temporary id}/$value.
var hostedContentAddress = regexp.MustCompile(`[^"'\s]*hostedContents/[^/"'\s]+/\$value`)

// ThreadMessage is what a restore reads of a stored channel message or
// reply.
type ThreadMessage struct {
	ID          string     `json:"id"`
	MessageType string     `json:"messageType"`
	Created     time.Time  `json:"createdDateTime"`
	Deleted     *time.Time `json:"deletedDateTime"`
	From        *struct {
		User *struct {
			ID          string `json:"id"`
			DisplayName string `json:"displayName"`
		} `json:"user"`
	} `json:"from"`
	Body struct {
		ContentType string `json:"contentType"`
		Content     string `json:"content"`
	} `json:"body"`
}

// Author is the id of the user who wrote the message; empty for a
// system event or an application's message, which no import can post.
func (m ThreadMessage) Author() string {
	if m.From == nil || m.From.User == nil {
		return ""
	}
	return m.From.User.ID
}

// Importable reports whether a restore can post the message: a live
// message a user wrote.
func (m ThreadMessage) Importable() bool {
	return m.Deleted == nil && m.Author() != "" && (m.MessageType == "" || m.MessageType == "message")
}

// storedThreadKey is the collision key of a stored ChannelThread: the
// replies counted are those a restore posts.
func storedThreadKey(stored []byte) (string, error) {
	var th ChannelThread
	if err := json.Unmarshal(stored, &th); err != nil {
		return "", fmt.Errorf("collision key of a stored thread: %w", err)
	}
	var top ThreadMessage
	if err := json.Unmarshal(th.Message, &top); err != nil {
		return "", fmt.Errorf("collision key of a stored thread: %w", err)
	}
	n := 0
	for _, raw := range th.Replies {
		var r ThreadMessage
		if err := json.Unmarshal(raw, &r); err != nil {
			return "", fmt.Errorf("collision key of a stored thread: %w", err)
		}
		if r.Importable() {
			n++
		}
	}
	return ThreadKey(top.Author(), top.Created, top.Body.Content, n), nil
}

// storedMailKey reads Subject and Date from a message's header, which is
// where Exchange takes subject and sentDateTime from.
func storedMailKey(stored []byte) (string, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(stored))
	if err != nil {
		return "", fmt.Errorf("collision key of a stored message: %w", err)
	}
	subject := msg.Header.Get("Subject")
	dec := mime.WordDecoder{CharsetReader: func(charset string, input io.Reader) (io.Reader, error) {
		// Charsets beyond the decoder's own (UTF-8, US-ASCII, ISO-8859-1)
		// need tables the standard library does not have.
		return nil, fmt.Errorf("unsupported charset %q", charset)
	}}
	if d, err := dec.DecodeHeader(subject); err == nil {
		subject = d
	}
	// A message without a usable Date is keyed by its subject alone,
	// however Exchange fills in its sentDateTime.
	sent, _ := msg.Header.Date()
	return MailKey(subject, sent), nil
}

// graphDateTime is Graph's dateTimeTimeZone: a wall-clock time and the
// zone it is in.
type graphDateTime struct {
	DateTime string `json:"dateTime"`
	TimeZone string `json:"timeZone"`
}

// time reads the value in its zone: "UTC" or an IANA name; other names
// (Windows zones, which Graph uses when asked to) are read as UTC.
func (d *graphDateTime) time() time.Time {
	if d == nil || d.DateTime == "" {
		return time.Time{}
	}
	loc := time.UTC
	if d.TimeZone != "" && d.TimeZone != "Local" {
		if l, err := time.LoadLocation(d.TimeZone); err == nil {
			loc = l
		}
	}
	for _, layout := range []string{"2006-01-02T15:04:05.9999999", time.RFC3339Nano, "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, d.DateTime, loc); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// keyTime is t in UTC to the second; the zero time is empty.
func keyTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Truncate(time.Second).Format(time.RFC3339)
}

// collisionKey hashes a kind and its fields, each length-prefixed so that
// no two different field lists encode alike.
func collisionKey(kind string, fields ...string) string {
	h := sha256.New()
	for _, f := range append([]string{"v1", kind}, fields...) {
		io.WriteString(h, strconv.Itoa(len(f)))
		io.WriteString(h, ":")
		io.WriteString(h, f)
	}
	return hex.EncodeToString(h.Sum(nil))
}
