package graph

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/corso-temporal/corso/m365"
)

// Beta's event delta ignores $select and gives each event only its id,
// type, start and end (microsoft-graph-docs-contrib,
// api-reference/beta/api/event-delta.md), so what details record of an
// event (subject, organizer) is read from the event itself as it is
// stored. Graph writes an event's own properties before its expanded
// attachments and occurrences, so the first bytes hold them.

// eventHeadSize bounds what is kept of an event to read its properties.
const eventHeadSize = 64 << 10

// eventMetaReader passes an event's JSON through, keeping its first bytes.
// degraded is set when the JSON lacks what Graph would not serve.
type eventMetaReader struct {
	io.ReadCloser
	head     bytes.Buffer
	degraded m365.Cause
}

// Degraded reports why the event is stored without part of it: a series
// whose exceptions Exchange cannot list (m365.CauseInstancesUnavailable).
func (r *eventMetaReader) Degraded() (m365.Cause, bool) { return r.degraded, r.degraded != "" }

func (r *eventMetaReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	if room := eventHeadSize - r.head.Len(); room > 0 {
		r.head.Write(p[:min(n, room)])
	}
	return n, err
}

// ItemMeta reads the event's subject, organizer, start and end from what
// was read of it; properties past the kept bytes are left empty.
func (r *eventMetaReader) ItemMeta() m365.ItemMeta {
	var m m365.ItemMeta
	dec := json.NewDecoder(bytes.NewReader(r.head.Bytes()))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return m
	}
	type zoned struct {
		DateTime string `json:"dateTime"`
		TimeZone string `json:"timeZone"`
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return m
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return m
		}
		switch t {
		case "subject":
			_ = json.Unmarshal(raw, &m.Subject)
		case "organizer":
			var o struct {
				EmailAddress struct {
					Address string `json:"address"`
				} `json:"emailAddress"`
			}
			if json.Unmarshal(raw, &o) == nil {
				m.Organizer = o.EmailAddress.Address
			}
		case "start", "end":
			var z zoned
			if json.Unmarshal(raw, &z) == nil {
				at := parseZoned(z.DateTime, z.TimeZone)
				if t == "start" {
					m.Start = at
				} else {
					m.End = at
				}
			}
		}
	}
	return m
}

var (
	_ m365.MetaReader     = (*eventMetaReader)(nil)
	_ m365.DegradedReader = (*eventMetaReader)(nil)
)
