package e2e

import (
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"
)

// s3Proxy stands between workers and the dev stack's S3 and injects the
// faults object storage shows an operator: bursts of 5xx answers, an
// outage (connections refused), and answers that never come. Requests
// pass unchanged otherwise, Host included, so their signatures hold.
type s3Proxy struct {
	t    *testing.T
	addr string // host:port workers are pointed at
	rp   *httputil.ReverseProxy

	mu  sync.Mutex
	srv *http.Server
	f   s3Faults
	n   int // requests seen since the faults were set
	// what was injected
	errors   int
	stalls   []time.Duration // how long each stalled request was held before the client left
	outages  int
	inBurst  int
	outageOn bool
}

// s3Faults says which requests fail. Counting, of requests and of what
// was injected, starts when they are set.
type s3Faults struct {
	// BurstEvery: every BurstEvery-th request starts a burst of BurstLen
	// answers 503 SlowDown or 500 InternalError, alternately.
	BurstEvery, BurstLen int
	// StallEvery: every StallEvery-th request gets no answer until the
	// client gives up, at most StallMax times.
	StallEvery, StallMax int
	// OutageAfter: after that many requests, connections are refused for
	// Outage.
	OutageAfter int
	Outage      time.Duration
}

func newS3Proxy(t *testing.T) *s3Proxy {
	t.Helper()
	target, err := url.Parse("http://" + dev.Env["CORSO_S3_ENDPOINT"])
	if err != nil {
		t.Fatal(err)
	}
	p := &s3Proxy{t: t}
	p.rp = &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Host = r.In.Host // signed by the client
	}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = l.Addr().String()
	p.serve(l)
	t.Cleanup(func() {
		p.mu.Lock()
		srv := p.srv
		p.mu.Unlock()
		_ = srv.Close()
	})
	return p
}

func (p *s3Proxy) serve(l net.Listener) {
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	p.mu.Lock()
	p.srv = srv
	p.mu.Unlock()
	go func() { _ = srv.Serve(l) }()
}

func (p *s3Proxy) set(f s3Faults) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.f, p.n, p.inBurst = f, 0, 0
	p.errors, p.outages, p.stalls = 0, 0, nil
}

type s3Injected struct {
	Requests        int
	Errors, Outages int
	Stalls          []time.Duration
}

func (p *s3Proxy) injected() s3Injected {
	p.mu.Lock()
	defer p.mu.Unlock()
	return s3Injected{Requests: p.n, Errors: p.errors, Outages: p.outages, Stalls: append([]time.Duration{}, p.stalls...)}
}

// fate decides what happens to a request.
func (p *s3Proxy) fate() (status int, stall, outage bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	f := p.f
	switch {
	case f.BurstEvery > 0 && p.n%f.BurstEvery == 0:
		p.inBurst = f.BurstLen
	case f.StallEvery > 0 && p.n%f.StallEvery == 0 && len(p.stalls) < f.StallMax:
		p.stalls = append(p.stalls, -1)
		return 0, true, false
	case f.OutageAfter > 0 && p.n == f.OutageAfter && !p.outageOn:
		p.outageOn = true
		p.outages++
		return 0, false, true
	}
	if p.inBurst > 0 {
		p.inBurst--
		p.errors++
		if p.errors%2 == 0 {
			return http.StatusInternalServerError, false, false
		}
		return http.StatusServiceUnavailable, false, false
	}
	return 0, false, false
}

func (p *s3Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	status, stall, outage := p.fate()
	switch {
	case outage:
		// The request that starts the outage is never answered: the
		// listener and every connection close, and nothing listens until
		// the outage is over.
		go p.outage()
		<-r.Context().Done()
	case stall:
		start := time.Now()
		// Read the request whole, so that the server notices the
		// client leave; then answer nothing.
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
		p.mu.Lock()
		for i, d := range p.stalls {
			if d < 0 {
				p.stalls[i] = time.Since(start)
				break
			}
		}
		p.mu.Unlock()
	case status == http.StatusServiceUnavailable:
		s3Error(w, status, "SlowDown", "Please reduce your request rate.")
	case status != 0:
		s3Error(w, status, "InternalError", "We encountered an internal error. Please try again.")
	default:
		p.rp.ServeHTTP(w, r)
	}
}

func s3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>`+code+`</Code><Message>`+msg+`</Message></Error>`)
}

// outage refuses connections for the configured time, then listens on
// the same address again.
func (p *s3Proxy) outage() {
	p.mu.Lock()
	srv, d := p.srv, p.f.Outage
	p.mu.Unlock()
	_ = srv.Close()
	time.Sleep(d)
	for {
		l, err := net.Listen("tcp", p.addr)
		if err == nil {
			p.serve(l)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.mu.Lock()
	p.outageOn = false
	p.mu.Unlock()
}
