package graph

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
)

// Exchange allows an app four concurrent requests per mailbox and answers
// the fifth with 429 ApplicationThrottled. Waiting for a slot here is
// cheaper than being throttled, and it must hold across every client and
// activity in the process, so limiters are shared by app (see limiterKey).
//
// SharePoint and OneDrive budget resource units per app and tenant rather
// than concurrency, but a drive whose every file is fetched at once burns
// that budget in bursts; drives get slots of their own, more of them than
// mailboxes (Config.MaxConcurrentPerDrive).

var (
	limitersMu sync.Mutex
	limiters   = map[string]*limiter{}
)

// sharedLimiter returns the process-wide limiter for key. Clients of the
// same app configured with different limits share the first one's.
func sharedLimiter(key string, n int) *limiter {
	limitersMu.Lock()
	defer limitersMu.Unlock()
	if l, ok := limiters[key]; ok {
		return l
	}
	l := &limiter{n: n, slots: map[string]*mailboxSlots{}}
	limiters[key] = l
	return l
}

// limiter hands out per-mailbox slots. A mailbox's entry lives only while
// someone holds or waits for one of its slots, so the map stays as small as
// the set of mailboxes being worked on.
type limiter struct {
	n     int
	mu    sync.Mutex
	slots map[string]*mailboxSlots
}

type mailboxSlots struct {
	sem   chan struct{}
	users int // holders and waiters
}

// acquire takes a slot of mailbox, waiting for one as long as ctx allows.
// The returned release must be called exactly once.
func (l *limiter) acquire(ctx context.Context, mailbox string) (release func(), err error) {
	key := strings.ToLower(mailbox)
	l.mu.Lock()
	s := l.slots[key]
	if s == nil {
		s = &mailboxSlots{sem: make(chan struct{}, l.n)}
		l.slots[key] = s
	}
	s.users++
	l.mu.Unlock()

	done := func() {
		l.mu.Lock()
		s.users--
		if s.users == 0 {
			delete(l.slots, key)
		}
		l.mu.Unlock()
	}
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		done()
		return nil, ctx.Err()
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			<-s.sem
			done()
		})
	}, nil
}

// limitTransport holds a slot of the request's mailbox or drive (set by
// the Client method in the context) from sending until the response body is
// read to the end or closed: Exchange counts a request as running until it
// has sent all of it, and a file download occupies its drive as long.
type limitTransport struct {
	base   http.RoundTripper
	lim    *limiter // mailboxes
	drives *limiter
	// budget, when set, is charged each drive request's resource units
	// once it holds its slot, just before it is sent.
	budget DriveBudget
	// pacing paces a team's or a mailbox's requests before they take a
	// slot (pacing.go).
	pacing resourcePacing
}

func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.pacing.wait(req); err != nil {
		return nil, err
	}
	lim, key := t.lim, mailboxOf(req.Context())
	if key == "" && t.drives != nil {
		lim, key = t.drives, driveOf(req.Context())
	}
	if key == "" {
		return t.base.RoundTrip(req)
	}
	release, err := lim.acquire(req.Context(), key)
	if err != nil {
		return nil, err
	}
	if lim == t.drives {
		if err := spendDriveBudget(t.budget, req); err != nil {
			release()
			return nil, err
		}
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		release()
		return nil, err
	}
	resp.Body = &releasingBody{ReadCloser: resp.Body, release: release}
	return resp, nil
}

// releasingBody gives the slot back at EOF, on a read error or on Close,
// whichever comes first.
type releasingBody struct {
	io.ReadCloser
	release func()
}

func (b *releasingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.release()
	}
	return n, err
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}

type ctxKey int

const (
	mailboxKey ctxKey = iota
	kindKey
	attemptKey
	driveKey
)

// forMailbox marks ctx as work on mailbox (its slots apply) of the given
// request kind (for Stats).
func forMailbox(ctx context.Context, mailbox, kind string) context.Context {
	ctx = context.WithValue(ctx, mailboxKey, mailbox)
	return context.WithValue(ctx, kindKey, kind)
}

// forDrive marks ctx as work on a drive (its slots apply) of the given
// request kind (for Stats).
func forDrive(ctx context.Context, driveID, kind string) context.Context {
	ctx = context.WithValue(ctx, driveKey, driveID)
	return context.WithValue(ctx, kindKey, kind)
}

// ofKind marks ctx with a request kind for calls outside any mailbox.
func ofKind(ctx context.Context, kind string) context.Context {
	return context.WithValue(ctx, kindKey, kind)
}

func withAttempt(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, attemptKey, n)
}

func mailboxOf(ctx context.Context) string {
	s, _ := ctx.Value(mailboxKey).(string)
	return s
}

func driveOf(ctx context.Context) string {
	s, _ := ctx.Value(driveKey).(string)
	return s
}

func kindOf(ctx context.Context) string {
	s, _ := ctx.Value(kindKey).(string)
	return s
}

func attemptOf(ctx context.Context) int {
	n, _ := ctx.Value(attemptKey).(int)
	return n
}
