package backup

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Selector narrows backup details (and later restores) the way Corso's
// flags do. Empty fields select everything; values within a field are
// alternatives (OR); fields combine with AND.
type Selector struct {
	Categories     []string  `json:"categories,omitempty"`
	EmailFolders   []string  `json:"emailFolders,omitempty"`
	EmailSubject   string    `json:"emailSubject,omitempty"`
	EmailSender    string    `json:"emailSender,omitempty"`
	ReceivedAfter  time.Time `json:"receivedAfter,omitzero"`
	ReceivedBefore time.Time `json:"receivedBefore,omitzero"`
	EventCalendars []string  `json:"eventCalendars,omitempty"`
	EventSubject   string    `json:"eventSubject,omitempty"`
	EventOrganizer string    `json:"eventOrganizer,omitempty"`
	StartsAfter    time.Time `json:"startsAfter,omitzero"`
	StartsBefore   time.Time `json:"startsBefore,omitzero"`
	ContactFolders []string  `json:"contactFolders,omitempty"`
	ContactName    string    `json:"contactName,omitempty"`
	ItemIDs        []string  `json:"itemIDs,omitempty"`
	// Drive files. A folder starting with "/" selects that folder and
	// below from the library's root; otherwise any folder whose path
	// contains it.
	Folders        []string  `json:"folders,omitempty"`
	Files          []string  `json:"files,omitempty"` // names, exactly (case-insensitive)
	Libraries      []string  `json:"libraries,omitempty"`
	CreatedAfter   time.Time `json:"createdAfter,omitzero"`
	CreatedBefore  time.Time `json:"createdBefore,omitzero"`
	ModifiedAfter  time.Time `json:"modifiedAfter,omitzero"`
	ModifiedBefore time.Time `json:"modifiedBefore,omitzero"`
	// Channel messages (Groups): channels by name, who posted the
	// thread's message, text in its subject or first words, and when it
	// was posted. Sender, text and time select conversation posts too
	// (their text is their conversation's topic); Conversations selects
	// posts by topic.
	Channels      []string  `json:"channels,omitempty"`
	Conversations []string  `json:"conversations,omitempty"`
	MessageSender string    `json:"messageSender,omitempty"`
	MessageText   string    `json:"messageText,omitempty"`
	PostedAfter   time.Time `json:"postedAfter,omitzero"`
	PostedBefore  time.Time `json:"postedBefore,omitzero"`
	// SharePoint list items: lists by name, text in the item's title,
	// and when it was last modified.
	Lists              []string  `json:"lists,omitempty"`
	ItemTitle          string    `json:"itemTitle,omitempty"`
	ItemModifiedAfter  time.Time `json:"itemModifiedAfter,omitzero"`
	ItemModifiedBefore time.Time `json:"itemModifiedBefore,omitzero"`
}

// Validate reports contradictory selections.
func (s Selector) Validate() error {
	if !s.ReceivedAfter.IsZero() && !s.ReceivedBefore.IsZero() && !s.ReceivedAfter.Before(s.ReceivedBefore) {
		return errors.New("--email-received-after must be earlier than --email-received-before")
	}
	if !s.StartsAfter.IsZero() && !s.StartsBefore.IsZero() && !s.StartsAfter.Before(s.StartsBefore) {
		return errors.New("--event-starts-after must be earlier than --event-starts-before")
	}
	if !s.CreatedAfter.IsZero() && !s.CreatedBefore.IsZero() && !s.CreatedAfter.Before(s.CreatedBefore) {
		return errors.New("--file-created-after must be earlier than --file-created-before")
	}
	if !s.ModifiedAfter.IsZero() && !s.ModifiedBefore.IsZero() && !s.ModifiedAfter.Before(s.ModifiedBefore) {
		return errors.New("--file-modified-after must be earlier than --file-modified-before")
	}
	if !s.PostedAfter.IsZero() && !s.PostedBefore.IsZero() && !s.PostedAfter.Before(s.PostedBefore) {
		return errors.New("--message-created-after must be earlier than --message-created-before")
	}
	if !s.ItemModifiedAfter.IsZero() && !s.ItemModifiedBefore.IsZero() && !s.ItemModifiedAfter.Before(s.ItemModifiedBefore) {
		return errors.New("--item-modified-after must be earlier than --item-modified-before")
	}
	for _, c := range s.Categories {
		if c != "email" && c != "contacts" && c != "events" && c != ChannelMessagesCategory && c != ConversationsCategory {
			return fmt.Errorf("unknown data category %q (want email, contacts, events, messages or conversations)", c)
		}
	}
	return nil
}

// Matches reports whether the selector selects the entry.
func (s Selector) Matches(e Entry) bool {
	if len(s.Categories) > 0 && !contains(s.Categories, e.Category) {
		return false
	}
	if len(s.ItemIDs) > 0 && !contains(s.ItemIDs, e.ItemID) {
		return false
	}
	switch e.Category {
	case "email":
		return s.onlyCategory("email") &&
			folderMatches(s.EmailFolders, e.Path) &&
			substring(e.Subject, s.EmailSubject) &&
			substring(e.Sender, s.EmailSender) &&
			within(e.Received, s.ReceivedAfter, s.ReceivedBefore)
	case "events":
		return s.onlyCategory("events") &&
			folderMatches(s.EventCalendars, e.Path) &&
			substring(e.Subject, s.EventSubject) &&
			substring(e.Organizer, s.EventOrganizer) &&
			within(e.Start, s.StartsAfter, s.StartsBefore)
	case "contacts":
		return s.onlyCategory("contacts") &&
			folderMatches(s.ContactFolders, e.Path) &&
			substring(e.DisplayName, s.ContactName)
	case ChannelMessagesCategory:
		return s.onlyCategory(ChannelMessagesCategory) &&
			folderMatches(s.Channels, e.Path) &&
			substring(e.Subject, s.MessageText) &&
			substring(e.Sender, s.MessageSender) &&
			within(e.Received, s.PostedAfter, s.PostedBefore)
	case ConversationsCategory:
		return s.onlyCategory(ConversationsCategory) &&
			topicMatches(s.Conversations, e.Path) &&
			substring(e.Subject, s.MessageText) &&
			substring(e.Sender, s.MessageSender) &&
			within(e.Received, s.PostedAfter, s.PostedBefore)
	case ListItemsCategory:
		return folderMatches(s.Lists, e.Path) &&
			substring(e.Subject, s.ItemTitle) &&
			within(e.ModTime, s.ItemModifiedAfter, s.ItemModifiedBefore)
	case FilesCategory:
		return driveFolderMatches(s.Folders, e.Path) &&
			(len(s.Files) == 0 || containsFold(s.Files, e.Name)) &&
			(len(s.Libraries) == 0 || containsFold(s.Libraries, e.Library)) &&
			within(e.Created, s.CreatedAfter, s.CreatedBefore) &&
			within(e.ModTime, s.ModifiedAfter, s.ModifiedBefore)
	}
	return false
}

// FilesCategory is the category of drive files in details.
const FilesCategory = "files"

// ListItemsCategory is the category of SharePoint list items in details;
// an item's path is its list's name, its subject its title.
const ListItemsCategory = "lists"

// ChannelMessagesCategory is the category of channel threads in details.
const ChannelMessagesCategory = "messages"

// ConversationsCategory is the category of group conversation posts in
// details; a post's path is its conversation's topic, then its thread.
const ConversationsCategory = "conversations"

// topicMatches selects a post whose conversation's topic (its path's
// first name) contains one of topics (case-insensitive).
func topicMatches(topics []string, path []string) bool {
	if len(topics) == 0 {
		return true
	}
	if len(path) == 0 {
		return false
	}
	for _, t := range topics {
		if substring(path[0], t) {
			return true
		}
	}
	return false
}

// driveFolderMatches follows Corso's --folder: "/a/b" selects the folder
// a/b from the root and everything below; "b" any folder path containing
// b. Case-insensitive.
func driveFolderMatches(folders []string, path []string) bool {
	if len(folders) == 0 {
		return true
	}
	p := strings.ToLower(strings.Join(path, "/"))
	for _, f := range folders {
		f = strings.ToLower(f)
		if rooted, ok := strings.CutPrefix(f, "/"); ok {
			rooted = strings.Trim(rooted, "/")
			if rooted == "" || p == rooted || strings.HasPrefix(p, rooted+"/") {
				return true
			}
			continue
		}
		if strings.Contains(p, strings.Trim(f, "/")) {
			return true
		}
	}
	return false
}

func containsFold(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

// onlyCategory is false when the selector filters another category only:
// `--email-subject x` selects no contacts.
func (s Selector) onlyCategory(cat string) bool {
	email := len(s.EmailFolders) > 0 || s.EmailSubject != "" || s.EmailSender != "" || !s.ReceivedAfter.IsZero() || !s.ReceivedBefore.IsZero()
	events := len(s.EventCalendars) > 0 || s.EventSubject != "" || s.EventOrganizer != "" || !s.StartsAfter.IsZero() || !s.StartsBefore.IsZero()
	contacts := len(s.ContactFolders) > 0 || s.ContactName != ""
	// Sender, text and time select channel threads and posts alike; a
	// channel selects only threads, a conversation only posts.
	posted := s.MessageSender != "" || s.MessageText != "" || !s.PostedAfter.IsZero() || !s.PostedBefore.IsZero()
	channels, conversations := len(s.Channels) > 0, len(s.Conversations) > 0
	messages := channels || posted && !conversations
	posts := conversations || posted && !channels
	if !email && !events && !contacts && !messages && !posts {
		return true
	}
	switch cat {
	case ChannelMessagesCategory:
		return messages
	case ConversationsCategory:
		return posts
	case "email":
		return email
	case "events":
		return events
	default:
		return contacts
	}
}

// folderMatches selects a path equal to, or below, one of the folders,
// given as "Inbox/Projects" (case-insensitive).
func folderMatches(folders []string, path []string) bool {
	if len(folders) == 0 {
		return true
	}
	p := strings.ToLower(strings.Join(path, "/"))
	for _, f := range folders {
		f = strings.ToLower(strings.Trim(f, "/"))
		if p == f || strings.HasPrefix(p, f+"/") {
			return true
		}
	}
	return false
}

func substring(have, want string) bool {
	return want == "" || strings.Contains(strings.ToLower(have), strings.ToLower(want))
}

func within(t, after, before time.Time) bool {
	if !after.IsZero() && !t.After(after) {
		return false
	}
	if !before.IsZero() && !t.Before(before) {
		return false
	}
	return true
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
