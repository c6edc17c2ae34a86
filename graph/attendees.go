package graph

import (
	"encoding/json"
	"fmt"
	"html"
	"strings"
)

// Creating an event with attendees makes Exchange send every attendee an
// invitation, and cancelling an occurrence sends cancellations, so a
// restore would mail everyone a mailbox ever met with. Restored events are
// created without attendees; who they were is written at the end of the
// body instead, so nothing is lost and nobody is notified.

type attendee struct {
	Type         string `json:"type"`
	EmailAddress struct {
		Name    string `json:"name"`
		Address string `json:"address"`
	} `json:"emailAddress"`
}

// withoutAttendees moves an event's attendees into its body.
func withoutAttendees(o jsonObject) (jsonObject, error) {
	raw := o.get("attendees")
	if raw == nil {
		return o, nil
	}
	var list []attendee
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("attendees: %w", err)
	}
	o = o.without(func(k string) bool { return k == "attendees" })
	if len(list) == 0 {
		return o, nil
	}
	var body struct {
		ContentType string `json:"contentType"`
		Content     string `json:"content"`
	}
	if b := o.get("body"); b != nil && string(b) != "null" {
		if err := json.Unmarshal(b, &body); err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
	}
	isHTML := strings.EqualFold(body.ContentType, "html")
	body.Content += attendeeNote(list, isHTML)
	if body.ContentType == "" {
		body.ContentType = "text"
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	return o.with("body", b), nil
}

// attendeeNote lists attendees the way a reader expects:
// "Ann Lee <ann@contoso.com> (required)".
func attendeeNote(list []attendee, isHTML bool) string {
	lines := make([]string, 0, len(list))
	for _, a := range list {
		who := a.EmailAddress.Address
		if n := a.EmailAddress.Name; n != "" && n != who {
			who = n + " <" + who + ">"
		}
		if a.Type != "" {
			who += " (" + a.Type + ")"
		}
		lines = append(lines, who)
	}
	if !isHTML {
		return "\n\nAttendees:\n" + strings.Join(lines, "\n")
	}
	for i, l := range lines {
		lines[i] = html.EscapeString(l)
	}
	return "<div><br>Attendees:<br>" + strings.Join(lines, "<br>") + "</div>"
}
