package graph

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/corso-temporal/corso/m365"
)

// A restored event has no attendees (creating it with them would invite
// them all again); its body lists them, word for word as below.
func TestRestoredEventListsItsAttendees(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(nil)
	ctx := context.Background()
	u := e.user(targetUser).ID
	cal, err := c.EnsureContainer(ctx, u, Events, []string{"Attendees"})
	if err != nil {
		t.Fatal(err)
	}
	attendees := `"attendees":[
		{"type":"required","emailAddress":{"name":"Ann Lee","address":"ann@contoso.com"}},
		{"type":"optional","emailAddress":{"name":"bob@contoso.com","address":"bob@contoso.com"}},
		{"type":"resource","emailAddress":{"name":"Room <4> & Co","address":"room4@contoso.com"}},
		{"emailAddress":{"address":"eve@contoso.com"}}]`
	for _, tc := range []struct {
		name, body, wantType, wantContent string
	}{{
		name:        "text",
		body:        `{"contentType":"text","content":"Agenda: budget"}`,
		wantType:    "text",
		wantContent: "Agenda: budget\n\nAttendees:\nAnn Lee <ann@contoso.com> (required)\nbob@contoso.com (optional)\nRoom <4> & Co <room4@contoso.com> (resource)\neve@contoso.com",
	}, {
		name:     "html",
		body:     `{"contentType":"html","content":"<html><body><p>Agenda</p></body></html>"}`,
		wantType: "html",
		wantContent: "<html><body><p>Agenda</p></body></html><div><br>Attendees:<br>Ann Lee &lt;ann@contoso.com&gt; (required)<br>" +
			"bob@contoso.com (optional)<br>Room &lt;4&gt; &amp; Co &lt;room4@contoso.com&gt; (resource)<br>eve@contoso.com</div>",
	}, {
		name:        "no body",
		body:        `null`,
		wantType:    "text",
		wantContent: "\n\nAttendees:\nAnn Lee <ann@contoso.com> (required)\nbob@contoso.com (optional)\nRoom <4> & Co <room4@contoso.com> (resource)\neve@contoso.com",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			stored := `{"subject":"Review ` + tc.name + `","body":` + tc.body + `,` + attendees + `,
				"start":{"dateTime":"2025-06-02T10:00:00.0000000","timeZone":"UTC"},"end":{"dateTime":"2025-06-02T11:00:00.0000000","timeZone":"UTC"}}`
			id, err := c.RestoreItem(ctx, u, Events, cal, []byte(stored), m365.MessageState{})
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Body struct {
					ContentType string `json:"contentType"`
					Content     string `json:"content"`
				} `json:"body"`
				Attendees []any `json:"attendees"`
			}
			if err := json.Unmarshal(fetchBytes(t, c, u, Events, id), &got); err != nil {
				t.Fatal(err)
			}
			if got.Body.ContentType != tc.wantType || got.Body.Content != tc.wantContent {
				t.Errorf("body %s %q\nwant %s %q", got.Body.ContentType, got.Body.Content, tc.wantType, tc.wantContent)
			}
			if len(got.Attendees) != 0 {
				t.Errorf("restored with %d attendees, who would be invited", len(got.Attendees))
			}
		})
	}
}
