package graph

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultIdleTimeout is how long a Graph answer may send nothing before its
// request is abandoned. A body can stop mid-way while its connection stays
// open (a gateway that lost its upstream, a SharePoint download that
// stalls); TCP keeps such a connection for hours, the transport's
// ResponseHeaderTimeout no longer applies once headers came, and the
// activity's keep-alive heartbeats would hide it until the activity's
// start-to-close timeout, a day later. A healthy transfer never pauses for
// minutes, so two minutes costs a real answer nothing and turns a stall
// into an error the download's own retries (Range resumption, fetch
// attempts) handle.
const DefaultIdleTimeout = 2 * time.Minute

// IdleError is a Read that waited longer than the idle timeout for Graph
// to send anything. It is a timeout (net.Error), so callers take it for
// a broken-off transfer and retry or resume.
type IdleError struct{ Idle time.Duration }

func (e *IdleError) Error() string {
	return fmt.Sprintf("Graph sent nothing for %s: the answer stalled and was abandoned", e.Idle)
}

func (e *IdleError) Timeout() bool   { return true }
func (e *IdleError) Temporary() bool { return true }

// idleTransport gives every request a context of its own and cuts it when
// its body sends nothing for idle. Only time blocked in the body's Read
// counts: a caller slow to consume (a repository write) is not Graph's
// silence.
type idleTransport struct {
	base http.RoundTripper
	idle time.Duration
}

func (t *idleTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil || resp.Body == nil || resp.Body == http.NoBody {
		cancel()
		return resp, err
	}
	resp.Body = &idleBody{body: resp.Body, cancel: cancel, idle: t.idle}
	return resp, nil
}

// idleBody is a response body whose Reads each get idle to return.
type idleBody struct {
	body   io.ReadCloser
	cancel context.CancelFunc
	idle   time.Duration

	mu      sync.Mutex // one Read at a time, as io.Reader promises no more
	timer   *time.Timer
	expired atomic.Bool
}

func (b *idleBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.expired.Load() {
		return 0, &IdleError{Idle: b.idle}
	}
	if b.timer == nil {
		b.timer = time.AfterFunc(b.idle, b.expire)
	} else {
		b.timer.Reset(b.idle)
	}
	n, err := b.body.Read(p)
	if !b.timer.Stop() && b.expired.Load() {
		// Whatever the transport says after its context was cut, the
		// cause is the silence.
		return n, &IdleError{Idle: b.idle}
	}
	return n, err
}

func (b *idleBody) expire() {
	b.expired.Store(true)
	b.cancel()
}

func (b *idleBody) Close() error {
	err := b.body.Close()
	b.cancel()
	return err
}
