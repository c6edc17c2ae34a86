package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/corso-temporal/corso/m365"
)

// The transport below kiota's middleware is, from the top:
//
//	transientRetry  retries resets, 500/502 and known transient 400/404s of GETs (kiota does not)
//	limiter         holds the mailbox's (or drive's) slot until the body is consumed
//	statsTransport  counts every attempt
//	rewrite         routes Microsoft hosts to Config.Endpoint
//	idleTransport   cuts an answer whose body sends nothing for a while (idle.go)
//	http.Transport
//
// Each attempt takes its own mailbox slot, so a request waiting out a
// backoff does not keep another from running.

// sharedBaseTransport is the process's connection pool for Graph and the
// identity platform, shared by all clients. Backups keep several requests
// per mailbox in flight for many mailboxes, so it keeps more idle
// connections per host than net/http's default of two.
var sharedBaseTransport = sync.OnceValue(func() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 64
	// Graph answers slowly at times, but an answer that has not started
	// after this long is lost; the retry above gets another chance.
	t.ResponseHeaderTimeout = 3 * time.Minute
	return t
})

// tokenTransport carries the credential's requests (discovery, tokens):
// routed and counted, but without mailbox slots, and without retries of
// ours because azcore retries token requests itself.
func tokenTransport(base http.RoundTripper, target *url.URL, st *stats) http.RoundTripper {
	return &statsTransport{base: routed(base, target), stats: st, auth: true}
}

// graphTransport is the transport under kiota's middleware for Graph calls.
func graphTransport(base http.RoundTripper, target *url.URL, st *stats, lim, drives *limiter, budget DriveBudget, pacing resourcePacing, idle time.Duration) *transientRetry {
	base = &idleTransport{base: base, idle: idle}
	rt := &limitTransport{base: &statsTransport{base: routed(base, target), stats: st}, lim: lim, drives: drives, budget: budget, pacing: pacing}
	return &transientRetry{base: rt, stats: st, attempts: transientAttempts, backoff: transientBackoff}
}

func routed(base http.RoundTripper, target *url.URL) http.RoundTripper {
	if target == nil {
		return base
	}
	return &rewrite{base: base, scheme: target.Scheme, host: target.Host}
}

// rewrite sends requests for Microsoft's hosts to the configured endpoint,
// leaving the URLs the SDK, MSAL and Graph's own links use untouched above
// it.
type rewrite struct {
	base         http.RoundTripper
	scheme, host string
}

func routedHost(h string) bool {
	h = strings.ToLower(h)
	return h == graphHost || h == loginHost || strings.HasSuffix(h, ".sharepoint.com")
}

func (t *rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	if routedHost(req.URL.Hostname()) {
		req = req.Clone(req.Context())
		req.URL.Scheme, req.URL.Host = t.scheme, t.host
		// The endpoint mints download URLs from the Host it was asked on;
		// they must point back at it.
		req.Host = t.host
	}
	return t.base.RoundTrip(req)
}

const (
	transientAttempts = 4
	transientBackoff  = 200 * time.Millisecond
)

// transientRetry retries idempotent requests that failed before an answer
// (connection reset, refused, timed out) or with 500/502, which kiota's
// RetryHandler leaves alone. 503/504 and 429 are the RetryHandler's.
type transientRetry struct {
	base     http.RoundTripper
	stats    *stats
	attempts int
	backoff  time.Duration
}

func (t *transientRetry) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return t.base.RoundTrip(req)
	}
	ctx := req.Context()
	for attempt := 1; ; attempt++ {
		r := req
		if attempt > 1 {
			r = req.WithContext(withAttempt(ctx, attempt))
			t.stats.retried()
		}
		resp, err := t.base.RoundTrip(r)
		if attempt >= t.attempts || ctx.Err() != nil || !transient(resp, err) {
			return resp, err
		}
		if resp != nil {
			discard(resp)
		}
		// Exponential backoff with jitter, so that many collections failing
		// together do not come back together.
		d := t.backoff << (attempt - 1)
		d += time.Duration(rand.Int64N(int64(d)/2 + 1))
		timer := time.NewTimer(d)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, ctx.Err()
		case <-timer.C:
		}
	}
}

// transient reports whether an attempt failed in a way that may pass:
// no answer, a 500 or 502 that is not about the item itself, and two
// answers real Graph gives for a moment (Corso's graph/service.go retries
// both): a 404 with an empty body, and 400 invalidRequest on a GET.
func transient(resp *http.Response, err error) bool {
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return false
		}
		var ne net.Error
		return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
			strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe")
	}
	switch resp.StatusCode {
	case http.StatusBadGateway:
		return true
	case http.StatusInternalServerError:
		// ErrorCorruptData and kin are the item's for ever.
		class, _ := m365.FaultOf(answerOf(resp.StatusCode, peek(resp)))
		return class != m365.ItemSkipped
	case http.StatusNotFound:
		return len(bytes.TrimSpace(peek(resp))) == 0
	case http.StatusBadRequest:
		return strings.EqualFold(answerOf(resp.StatusCode, peek(resp)).code, "invalidRequest")
	}
	return false
}

// peek reads the start of a failed answer's body, leaving the body
// readable from the start for whoever comes next.
func peek(resp *http.Response) []byte {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), resp.Body), resp.Body}
	return b
}

// answerOf reads Graph's error code and message from a failed answer's
// body.
func answerOf(status int, b []byte) *apiError {
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(b, &body)
	return newAPIError("", status, body.Error.Code, body.Error.Message)
}

// discard drops a response that will not be used, so its connection (and
// its mailbox slot) is freed.
func discard(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	_ = resp.Body.Close()
}

// How long a call may wait inside the client for throttling to pass before
// it gives up with a ThrottledError: Temporal waits better than a goroutine.
const (
	maxThrottleRetries = 3
	maxInlineWait      = 10 * time.Second
	maxInlineWaitTotal = 20 * time.Second
)

// shouldRetryThrottled is kiota's RetryHandler callback for 429/503/504: it
// lets the handler wait out short pauses and gives up on long ones, which
// then reach the caller as a ThrottledError whose RetryAfter a workflow can
// honour without a goroutine sleeping for minutes. It also closes the
// answer being retried, which the handler would leave open.
func (c *Client) shouldRetryThrottled(spent time.Duration, attempt int, req *http.Request, resp *http.Response) bool {
	wait, ok := retryAfter(resp.Header)
	if !ok {
		// What the handler will wait: DelaySeconds·2^attempt plus jitter.
		wait = time.Duration(1<<attempt)*time.Second + time.Second
	}
	throttled := resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable
	if throttled && c.cfg.DriveBudget != nil && req != nil && driveOf(req.Context()) != "" {
		c.cfg.DriveBudget.Throttled(wait)
	}
	if throttled {
		c.teams.throttled(req, wait)
	}
	if wait > maxInlineWait || spent+wait > maxInlineWaitTotal {
		return false
	}
	if resp.StatusCode == http.StatusServiceUnavailable && resp.ContentLength == 0 && req != nil {
		switch kindOf(req.Context()) {
		case "events.delta":
			// Exchange's answer to an event delta page too large to
			// assemble, not throttling: the caller asks for smaller pages
			// (eventPage).
			return false
		case kindEventGet:
			// Exchange's answer, on every attempt, to a series with too
			// many occurrences to list its exceptions: the caller reads it
			// without them (fetchEvent).
			return false
		}
	}
	discard(resp)
	return true
}

// retryAfter parses Retry-After (seconds or an HTTP date), capped at
// m365.MaxRetryAfter: every wait the client, the drive budget or a
// workflow's retry takes on Graph's word comes from here.
func retryAfter(h http.Header) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 {
		// Compared in seconds: a huge value overflows a Duration.
		return m365.CapRetryAfter(time.Duration(min(f, m365.MaxRetryAfter.Seconds()) * float64(time.Second))), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return m365.CapRetryAfter(time.Until(t)), true
	}
	return 0, false
}
