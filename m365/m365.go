// Package m365 names what corso backs up from Microsoft 365 — mailboxes,
// their containers (mail folders, contact folders, calendars) and the
// changes a delta enumeration reports — and the errors a Graph client
// raises. It is the vocabulary shared by the Graph client and the
// activities, and it imports no Graph SDK, so packages that only need the
// vocabulary stay light.
package m365

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Mailbox is a user with an Exchange mailbox. A "*" resolution also
// returns the users it leaves out, with Unavailable saying why, so that the
// run can report them.
type Mailbox struct {
	ID          string `json:"id"`
	UPN         string `json:"upn"`
	DisplayName string `json:"displayName,omitempty"`
	Unavailable Cause  `json:"unavailable,omitempty"`
}

// Category is one kind of Exchange data.
type Category string

const (
	Email    Category = "email"
	Contacts Category = "contacts"
	Events   Category = "events"
)

// Categories lists every Exchange category in backup order.
var Categories = []Category{Email, Contacts, Events}

// ChannelMessages is a team's channel messages, each stored with its
// replies as one thread (the Groups service's "messages").
const ChannelMessages Category = "messages"

// Conversations is a group mailbox's conversations: each thread is a
// container and each post an item (the Groups service's "conversations").
const Conversations Category = "conversations"

// GroupCategories lists every Groups category in backup order.
var GroupCategories = []Category{ChannelMessages, Conversations}

// Groups is the service of Microsoft 365 groups and their teams.
const Groups = "groups"

// ServiceCategories are the categories of a service whose resources are
// backed up container by container: Exchange's, Groups' or SharePoint
// lists'.
func ServiceCategories(service string) []Category {
	switch service {
	case Groups:
		return GroupCategories
	case SharePointLists:
		return ListCategories
	}
	return Categories
}

// ParseServiceCategory accepts the names a service's --data flag takes.
func ParseServiceCategory(service, s string) (Category, error) {
	cats := ServiceCategories(service)
	var names []string
	for _, c := range cats {
		if string(c) == s {
			return c, nil
		}
		names = append(names, string(c))
	}
	return "", fmt.Errorf("unknown data category %q (want %s)", s, strings.Join(names, ", "))
}

// DeltaSeesEverything reports whether a first delta round of the
// category lists every item. Channel message delta reaches back only
// eight months ("Delta will only return messages within the last eight
// months. You can use GET /teams/{team-id}/channels/{channel-id}/messages
// to retrieve older messages": Graph's chatMessage delta documentation),
// so a new enumeration of a channel also lists it for the older ones.
func (c Category) DeltaSeesEverything() bool { return c != ChannelMessages }

// HasDelta reports whether Graph enumerates the category's containers by
// delta. A group's conversation threads have no delta function (Graph
// v1.0 lists only "List posts" for a conversationThread:
// https://learn.microsoft.com/graph/api/resources/conversationthread), so
// each backup lists them; that is their way, not a fallback.
func (c Category) HasDelta() bool { return c != Conversations }

// ModTimeTracksContent reports whether an item of the category changes
// its modification time whenever its stored form changes, so that a stored
// copy with the same time can be reused. A channel thread's does not: a
// new or edited reply changes the thread but not the message's
// lastModifiedDateTime.
func (c Category) ModTimeTracksContent() bool { return c != ChannelMessages }

// ParseCategory accepts the names `backup create exchange --data` takes.
func ParseCategory(s string) (Category, error) { return ParseServiceCategory("exchange", s) }

// Container is a mail folder, contact folder, calendar or team channel.
type Container struct {
	ID          string   `json:"id"`
	ParentID    string   `json:"parentID,omitempty"`
	DisplayName string   `json:"displayName"`
	Path        []string `json:"path"` // display names from the mailbox root
	Category    Category `json:"category"`
	// ItemCount is Graph's count of the container's items when it reports
	// one (mail folders do), a hint for scheduling; zero when unknown.
	ItemCount int64 `json:"itemCount,omitempty"`
}

// ItemMeta is what backup details record about an item.
type ItemMeta struct {
	Subject     string    `json:"subject,omitempty"`
	Sender      string    `json:"sender,omitempty"`
	Recipients  []string  `json:"recipients,omitempty"`
	Received    time.Time `json:"received,omitzero"`
	Size        int64     `json:"size,omitempty"`
	Organizer   string    `json:"organizer,omitempty"`
	Start       time.Time `json:"start,omitzero"`
	End         time.Time `json:"end,omitzero"`
	DisplayName string    `json:"displayName,omitempty"`
	Emails      []string  `json:"emails,omitempty"`
	MessageState
}

// MessageState is what a message's MIME does not carry and a restore
// sets again: whether it is a draft, unread, or flagged for follow-up
// (followupFlag's flagStatus, empty when not flagged).
type MessageState struct {
	Draft  bool   `json:"draft,omitempty"`
	Unread bool   `json:"unread,omitempty"`
	Flag   string `json:"flag,omitempty"`
}

// MetaReader is an item's content that, once read, also tells what
// details record of the item: what a delta page did not give (beta's event
// delta gives only an event's id, type, start and end).
type MetaReader interface {
	io.Reader
	ItemMeta() ItemMeta
}

// Change is one entry of a delta page: an item added or changed, or removed
// from the container (deleted or moved away).
type Change struct {
	ID      string    `json:"id"`
	Removed bool      `json:"removed,omitempty"`
	ModTime time.Time `json:"modTime,omitzero"`
	Meta    ItemMeta  `json:"meta"`
}

// Page is one page of a delta enumeration. Exactly one of NextLink and
// DeltaLink is set: NextLink continues the round, DeltaLink starts the next
// round later.
type Page struct {
	Changes   []Change
	NextLink  string
	DeltaLink string
}

// Errors a Graph client returns; wrap them with context.
var (
	ErrUnknownResource = errors.New("unknown resource")
	ErrNotFound        = errors.New("not found")
	ErrAuth            = errors.New("not authorized")
	ErrDeltaExpired    = errors.New("delta token expired")
)

// ThrottledError says Graph still refused after the client's own retries;
// RetryAfter is when Graph said to come back.
type ThrottledError struct {
	RetryAfter time.Duration
	Err        error
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("throttled by Microsoft Graph (retry after %s): %v", e.RetryAfter, e.Err)
}

func (e *ThrottledError) Unwrap() error { return e.Err }
