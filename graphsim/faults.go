package graphsim

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// FaultOptions inject failures. Random decisions are deterministic: the
// fate of the n-th request for a given method and URL depends only on Seed,
// the URL and n, not on how requests to other URLs interleave.
type FaultOptions struct {
	Seed int64
	// Latency is added to every Graph and download request, plus a uniform
	// random part below LatencyJitter.
	Latency       time.Duration
	LatencyJitter time.Duration
	// BandwidthBytesPerSec caps the speed of each response body (0: none).
	BandwidthBytesPerSec int64
	// ErrorRate is the fraction of requests answered with one of
	// ErrorStatuses (default 500 and 503) instead of being served.
	ErrorRate     float64
	ErrorStatuses []int
	// Rate429 and Rate503 answer that fraction with a throttling response
	// (Retry-After: 1) regardless of budgets.
	Rate429, Rate503 float64
	// ResetRate is the fraction of requests whose connection is reset before
	// any response.
	ResetRate float64
	// DropRate is the fraction of bodies cut off mid-way (after
	// DropAfterBytes, default half the body) by closing the connection.
	DropRate       float64
	DropAfterBytes int64
	// StallRate is the fraction of bodies that stop mid-way (after
	// StallAfterBytes, default half the body) and then send nothing more,
	// holding the connection open until the client goes away. Downloads
	// from OneDrive and SharePoint are reported to do this, hanging a
	// client without a read timeout for hours
	// (nextcloud/integration_onedrive#139; abraunegg/onedrive bounds it
	// with a 300-second data timeout; SharePoint/sp-dev-docs#9529).
	StallRate       float64
	StallAfterBytes int64
	// ExpireDownloadURLs makes every download URL answer as expired.
	ExpireDownloadURLs bool
	// Classes limits faults to endpoint classes with one of these prefixes
	// (see Stats.Requests for class names); empty means all.
	Classes []string
}

type faultInjector struct {
	s      *Server
	mu     sync.Mutex
	opts   FaultOptions
	counts map[string]uint64
}

func newFaultInjector(s *Server, o FaultOptions) *faultInjector {
	return &faultInjector{s: s, opts: o, counts: map[string]uint64{}}
}

func (f *faultInjector) set(o FaultOptions) {
	f.mu.Lock()
	f.opts = o
	clear(f.counts)
	f.mu.Unlock()
}

func (f *faultInjector) get() FaultOptions {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.opts
}

func (f *faultInjector) active(o FaultOptions) bool {
	return o.Latency > 0 || o.LatencyJitter > 0 || o.BandwidthBytesPerSec > 0 || o.ErrorRate > 0 ||
		o.Rate429 > 0 || o.Rate503 > 0 || o.ResetRate > 0 || o.DropRate > 0 || o.StallRate > 0
}

func (f *faultInjector) downloadURLsExpired() bool { return f.get().ExpireDownloadURLs }

// dice returns the deterministic random stream for this request.
func (f *faultInjector) dice(o FaultOptions, r *http.Request) *rng {
	key := r.Method + " " + r.URL.RequestURI()
	f.mu.Lock()
	f.counts[key]++
	n := f.counts[key]
	f.mu.Unlock()
	h := uint64(14695981039346656037)
	for i := 0; i < len(key); i++ {
		h = (h ^ uint64(key[i])) * 1099511628211
	}
	return newRNG(uint64(o.Seed), tagFault, h, n)
}

func classMatches(classes []string, class string) bool {
	if len(classes) == 0 {
		return true
	}
	for _, c := range classes {
		if strings.HasPrefix(class, c) {
			return true
		}
	}
	return false
}

// before applies latency and pre-response faults. It reports whether the
// request was answered (or its connection killed).
func (f *faultInjector) before(rq *request) bool {
	o := f.get()
	if !f.active(o) || !classMatches(o.Classes, rq.route.class) {
		return false
	}
	r := f.dice(o, rq.r)
	if d := o.Latency + time.Duration(r.float()*float64(o.LatencyJitter)); d > 0 {
		sleepOn(f.s.opts.Clock, d)
	}
	st := f.s.stats
	switch {
	case r.chance(o.ResetRate):
		st.fault("reset")
		resetConnection(rq.w)
		return true
	case r.chance(o.Rate429):
		st.fault("429")
		f.s.fail(rq.httpCtx, throttleError(http.StatusTooManyRequests, "TooManyRequests", "Too many requests.", time.Second, false))
		return true
	case r.chance(o.Rate503):
		st.fault("503")
		f.s.fail(rq.httpCtx, throttleError(http.StatusServiceUnavailable, "serviceNotAvailable", "The service is temporarily unavailable.", time.Second, false))
		return true
	case r.chance(o.ErrorRate):
		statuses := o.ErrorStatuses
		if len(statuses) == 0 {
			statuses = []int{500, 503}
		}
		code := pick(r, statuses)
		st.fault(itoa64(int64(code)))
		f.s.fail(rq.httpCtx, serverError(code))
		return true
	}
	if r.chance(o.DropRate) {
		rq.dropAfter = o.DropAfterBytes
		if rq.dropAfter <= 0 {
			rq.dropAfter = -1 // half of whatever the body turns out to be
		}
	}
	if r.chance(o.StallRate) {
		rq.stallAfter = o.StallAfterBytes
		if rq.stallAfter <= 0 {
			rq.stallAfter = -1
		}
	}
	return false
}

func serverError(code int) *apiError {
	switch code {
	case 502:
		return newError(502, "BadGateway", "The server, while acting as a gateway, received an invalid response.")
	case 503:
		return newError(503, "serviceNotAvailable", "The service is temporarily unavailable. Please retry.").with("Retry-After", "1")
	case 504:
		return newError(504, "gatewayTimeout", "The gateway did not receive a timely response.")
	}
	return newError(code, "generalException", "An unexpected error occurred.")
}

// resetConnection kills the connection without a response: a TCP reset
// where the transport allows it.
func resetConnection(w http.ResponseWriter) {
	if h, ok := w.(http.Hijacker); ok {
		if conn, _, err := h.Hijack(); err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

var errDropped = errors.New("graphsim: body dropped by fault injection")

// bodyWriter applies the bandwidth cap, mid-body drops and stalls to a
// response.
type bodyWriter struct {
	w        io.Writer
	flusher  http.Flusher
	clock    Clock
	bps      int64
	dropAt   int64 // -1: never
	stallAt  int64 // -1: never
	gone     <-chan struct{}
	stats    *stats
	written  int64
	dropHits bool
}

func (b *bodyWriter) Write(p []byte) (int, error) {
	total := 0
	for len(p) > 0 {
		chunk := p
		if b.bps > 0 && int64(len(chunk)) > b.bps/20+1 {
			chunk = chunk[:b.bps/20+1] // pace in ~50 ms slices
		}
		if b.stallAt >= 0 && b.written+int64(len(chunk)) > b.stallAt {
			n, _ := b.w.Write(chunk[:b.stallAt-b.written])
			b.written += int64(n)
			return total + n, b.stall()
		}
		if b.dropAt >= 0 && b.written+int64(len(chunk)) > b.dropAt {
			chunk = chunk[:b.dropAt-b.written]
			n, _ := b.w.Write(chunk)
			b.written += int64(n)
			b.dropHits = true
			return total + n, errDropped
		}
		n, err := b.w.Write(chunk)
		b.written += int64(n)
		total += n
		if err != nil {
			return total, err
		}
		if b.bps > 0 {
			if b.flusher != nil {
				b.flusher.Flush()
			}
			sleepOn(b.clock, time.Duration(float64(n)/float64(b.bps)*float64(time.Second)))
		}
		p = p[len(chunk):]
	}
	return total, nil
}

var errStalled = errors.New("graphsim: the client went away from a stalled body")

// stall sends what was written and then nothing, holding the connection
// open until the client gives up on it.
func (b *bodyWriter) stall() error {
	b.stats.fault("stall")
	b.stallAt = -1
	if b.flusher != nil {
		b.flusher.Flush()
	}
	<-b.gone
	return errStalled
}

func (f *faultInjector) writer(c *httpCtx, size int64) *bodyWriter {
	o := f.get()
	bw := &bodyWriter{w: c.w, clock: f.s.opts.Clock, bps: o.BandwidthBytesPerSec, dropAt: -1, stallAt: -1,
		gone: c.r.Context().Done(), stats: f.s.stats}
	if fl, ok := any(c.w).(http.Flusher); ok {
		bw.flusher = fl
	}
	bw.dropAt = faultOffset(c.dropAfter, size)
	bw.stallAt = faultOffset(c.stallAfter, size)
	return bw
}

// faultOffset is where in a body of size bytes a fault set to strike
// after n bytes does: -1 never, n < 0 half-way, and never at the very end
// so that the body is always short.
func faultOffset(n, size int64) int64 {
	switch {
	case n > 0:
		return min(n, max(size-1, 0))
	case n < 0:
		return size / 2
	}
	return -1
}

// abortIfDropped ends the response abruptly after a drop so the client sees
// a short body on a closed connection.
func (f *faultInjector) abortIfDropped(c *httpCtx, bw *bodyWriter) {
	if bw.dropHits {
		f.s.stats.fault("drop")
		c.w.Flush()
		panic(http.ErrAbortHandler)
	}
}

// writeBody sends an in-memory body through the fault writer.
func (f *faultInjector) writeBody(c *httpCtx, b []byte) {
	bw := f.writer(c, int64(len(b)))
	_, _ = bw.Write(b)
	f.abortIfDropped(c, bw)
}

// writeContent streams generated content through the fault writer.
func (f *faultInjector) writeContent(c *httpCtx, ct content, off, n int64) {
	bw := f.writer(c, n)
	_ = ct.WriteRange(bw, off, n)
	f.abortIfDropped(c, bw)
}
