package graph

import (
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"sync"
)

// Stats counts what a Client sent, so benchmarks can report Graph requests
// per item and operators can see throttling. Every HTTP attempt counts,
// retries included, because Graph's budgets count them too.
type Stats struct {
	// Requests maps a request kind (users.get, users.list, mailbox.probe,
	// mailFolders.delta, contactFolders.delta, contactFolders.get,
	// calendars.list, messages.delta, contacts.delta, events.delta,
	// message.mime, contact.get, event.get (and event.get.withoutExceptions
	// for a series that refuses its exceptions), event.attachments (an
	// event's or exception's attachments with their items; restores list
	// an occurrence's too), auth.token, auth.discovery;
	// for restores mailFolders.list, mailFolders.create,
	// contactFolders.list, contactFolders.create, calendars.list,
	// calendars.create, messages.list, contacts.list, events.list,
	// message.create, contact.create, event.create, attachment.create,
	// attachment.uploadSession, attachment.upload, events.instances,
	// event.update, message.delete, contact.delete, event.delete; for
	// drives drive.get, sites.list, site.get, drives.list, drive.delta,
	// drive.children, drive.permissions, drive.content (the request for
	// a download URL), drive.download, drive.item.get,
	// drive.folder.create, drive.upload, drive.item.update,
	// drive.uploadSession, drive.uploadChunk, drive.uploadStatus,
	// drive.uploadCancel, drive.invite, drive.createLink,
	// drive.item.delete) to attempts sent.
	Requests map[string]int64 `json:"requests"`
	// Retries is the attempts that repeated a failed one, by kiota's
	// RetryHandler (throttling) or by the client (resets, 500, 502).
	Retries int64 `json:"retries"`
	// Throttled is the answers with status 429 or 503.
	Throttled int64 `json:"throttled"`
	// Throttles maps a request kind to its answers with status 429 or
	// 503.
	Throttles map[string]int64 `json:"throttles,omitempty"`
	// Failed is the attempts that got no answer (reset, refused, timeout).
	Failed int64 `json:"failed"`
}

// Total is the number of HTTP attempts.
func (s Stats) Total() int64 {
	var n int64
	for _, v := range s.Requests {
		n += v
	}
	return n
}

// String renders s as JSON, so that expvar.Func(func() any { return
// c.Stats() }) publishes it.
func (s Stats) String() string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Stats returns a snapshot of the client's counters.
func (c *Client) Stats() Stats { return c.stats.snapshot() }

type stats struct {
	mu sync.Mutex
	s  Stats
}

func newStats() *stats {
	return &stats{s: Stats{Requests: map[string]int64{}, Throttles: map[string]int64{}}}
}

func (st *stats) snapshot() Stats {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := st.s
	out.Requests = maps.Clone(st.s.Requests)
	out.Throttles = maps.Clone(st.s.Throttles)
	return out
}

func (st *stats) retried() {
	st.mu.Lock()
	st.s.Retries++
	st.mu.Unlock()
}

// statsTransport counts attempts by kind and outcome.
type statsTransport struct {
	base  http.RoundTripper
	stats *stats
	auth  bool // the credential's transport: every request is auth.*
}

func (t *statsTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	kind := requestKind(req, t.auth)
	// kiota marks its retries with Retry-Attempt; ours are counted where
	// they are made (an attempt of ours repeating a kiota retry carries the
	// header too, so only the first attempt looks at it).
	kiotaRetry := req.Header.Get("Retry-Attempt") != "" && attemptOf(req.Context()) == 0
	resp, err := t.base.RoundTrip(req)
	st := t.stats
	st.mu.Lock()
	st.s.Requests[kind]++
	if kiotaRetry {
		st.s.Retries++
	}
	switch {
	case err != nil:
		st.s.Failed++
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		st.s.Throttled++
		st.s.Throttles[kind]++
	}
	st.mu.Unlock()
	return resp, err
}

// requestKind names a request for Stats. Token traffic runs under the
// context of the Graph call that needed the token, so it is named by its
// URL; everything else by the kind the Client method put in the context.
func requestKind(req *http.Request, auth bool) string {
	if auth {
		if strings.Contains(strings.ToLower(req.URL.Path), "openid-configuration") {
			return "auth.discovery"
		}
		return "auth.token"
	}
	if k := kindOf(req.Context()); k != "" {
		return k
	}
	return "other"
}

// ServiceOf names the part of Microsoft 365 a request kind belongs to:
// exchange (mail, contacts, calendars), drive (OneDrive and SharePoint
// libraries: they share one API), directory (users), auth (tokens and
// discovery), or other.
func ServiceOf(kind string) string {
	family, _, _ := strings.Cut(kind, ".")
	switch family {
	case "mailbox", "mailFolders", "messages", "message", "contactFolders", "contacts", "contact",
		"calendars", "events", "event", "attachment":
		return "exchange"
	case "drive", "drives", "sites", "site":
		return "drive"
	case "users":
		return "directory"
	case "auth":
		return "auth"
	}
	return "other"
}
