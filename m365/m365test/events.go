// Package m365test holds what tests of several packages expect of
// restored Microsoft 365 items, written once from the product's documented
// behaviour rather than from its code.
package m365test

import (
	"fmt"
	"html"
	"strings"
)

// AsRestored changes a stored event, in place, into the event a restore
// writes: its attendees, and each exception's, are not invited again but
// listed at the end of the body, one per line as "Name <address> (type)",
// HTML-escaped in an HTML body. graph's TestRestoredEventListsItsAttendees
// pins these words literally. An event without attendees is unchanged.
func AsRestored(ev map[string]any) {
	listAttendeesInBody(ev)
	exs, _ := ev["exceptionOccurrences"].([]any)
	for _, x := range exs {
		if ex, ok := x.(map[string]any); ok {
			listAttendeesInBody(ex)
		}
	}
}

func listAttendeesInBody(e map[string]any) {
	list, _ := e["attendees"].([]any)
	delete(e, "attendees")
	if len(list) == 0 {
		return
	}
	body, _ := e["body"].(map[string]any)
	if body == nil {
		body = map[string]any{"contentType": "text", "content": ""}
	}
	isHTML := strings.EqualFold(fmt.Sprint(body["contentType"]), "html")
	var lines []string
	for _, x := range list {
		a, _ := x.(map[string]any)
		addr, _ := a["emailAddress"].(map[string]any)
		who := fmt.Sprint(addr["address"])
		if n, _ := addr["name"].(string); n != "" && n != who {
			who = n + " <" + who + ">"
		}
		if typ, _ := a["type"].(string); typ != "" {
			who += " (" + typ + ")"
		}
		if isHTML {
			who = html.EscapeString(who)
		}
		lines = append(lines, who)
	}
	content, _ := body["content"].(string)
	if isHTML {
		content += "<div><br>Attendees:<br>" + strings.Join(lines, "<br>") + "</div>"
	} else {
		content += "\n\nAttendees:\n" + strings.Join(lines, "\n")
	}
	body["content"] = content
	e["body"] = body
}
