package graphsim

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Server is a simulated tenant behind Graph's HTTP interface. Create it with
// New, serve Handler (for example with httptest.NewServer), and Close it.
// Construction has no side effects: nothing is generated, no goroutine is
// started and no port is opened.
type Server struct {
	opts   Options
	t      *tenant
	model  *model
	router *router

	deltaTokens tokenSigner
	accessKeys  tokenSigner
	urlKeys     tokenSigner

	stats    *stats
	throttle *throttler
	faults   *faultInjector
	uploads  *uploadStore
	hashes   *hashCache

	transients *transients // deterministic transient answers (transient.go)

	reqSeq         atomic.Uint64
	closed         atomic.Bool
	tokenCache     sync.Map // access token -> *accessClaims
	tokenCacheSize atomic.Int64
}

// New builds a Server from opts.
func New(opts Options) *Server {
	opts.setDefaults()
	t := newTenant(opts.Tenant)
	if opts.TenantID == "" {
		opts.TenantID = t.id
	}
	s := &Server{
		opts:        opts,
		t:           t,
		model:       newModel(t, opts.Clock),
		deltaTokens: newTokenSigner(opts.Tenant.Seed, "delta"),
		accessKeys:  newTokenSigner(opts.Tenant.Seed, "access:"+opts.ClientSecret),
		urlKeys:     newTokenSigner(opts.Tenant.Seed, "urls"),
		stats:       newStats(),
		uploads:     newUploadStore(),
		hashes:      newHashCache(),
		transients:  newTransients(&opts),
	}
	s.throttle = newThrottler(s, opts.Throttle)
	s.faults = newFaultInjector(s, opts.Faults)
	s.router = newRouter(s.routes())
	return s
}

// Handler returns the HTTP handler serving Graph paths (/v1.0, /beta), the
// token endpoint (/{tenant}/oauth2/v2.0/token), download and upload URLs,
// and the control API (/_sim/).
func (s *Server) Handler() http.Handler { return s }

// Close releases the server. It starts no goroutines, so Close only makes
// later requests fail with 503; it is safe to call more than once.
func (s *Server) Close() error {
	s.closed.Store(true)
	return nil
}

// TenantID is the directory id the token endpoint accepts.
func (s *Server) TenantID() string { return s.opts.TenantID }

func (s *Server) now() time.Time { return s.opts.Clock.Now() }
func (s *Server) ids() idCodec   { return s.t.ids }

// httpCtx is the transport side of a request.
type httpCtx struct {
	w           *respWriter
	r           *http.Request
	requestID   string
	clientReqID string
	fetched     []fetch // items whose content this request served
	dropAfter   int64   // fault injection: cut the body after this many bytes (-1: half)
	stallAfter  int64   // fault injection: stop sending after this many bytes (-1: half)
}

type fetch struct{ kind, id string }

func (c *httpCtx) fetchedItem(kind, id string) { c.fetched = append(c.fetched, fetch{kind, id}) }

// ServeHTTP dispatches to the Graph routes, the token endpoint, download
// and upload URLs, or the control API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rw := &respWriter{ResponseWriter: w}
	c := &httpCtx{w: rw, r: r, requestID: guid(uint64(s.opts.Tenant.Seed), 0x5eed, s.reqSeq.Add(1))}
	rw.Header().Set("request-id", c.requestID)
	if id := r.Header.Get("client-request-id"); id != "" {
		c.clientReqID = id
		rw.Header().Set("client-request-id", id)
	}
	class := "unknown"
	defer func() {
		s.stats.record(class, rw.status(), rw.bytes, c.fetched, r.Header.Get("Retry-Attempt") != "")
	}()
	if s.closed.Load() {
		s.fail(c, newError(http.StatusServiceUnavailable, "serviceNotAvailable", "The simulator is closed."))
		return
	}
	path := r.URL.EscapedPath()
	lower := strings.ToLower(path)
	switch {
	case strings.HasPrefix(path, "/_sim/"):
		class = "sim"
		s.serveControl(c)
	case strings.HasSuffix(lower, "/oauth2/v2.0/token"):
		class = "auth.token"
		s.serveToken(c)
	case strings.HasSuffix(lower, "/v2.0/.well-known/openid-configuration"):
		class = "auth.openid"
		s.serveOpenIDConfig(c)
	case strings.HasSuffix(lower, downloadPath):
		class = "download"
		s.serveDownload(c)
	case strings.HasPrefix(lower, uploadPathPrefix):
		class = "upload"
		s.serveUpload(c)
	default:
		class = s.serveGraph(c)
	}
}

// serveGraph authenticates, routes, injects faults, throttles and runs a
// Graph call. It returns the endpoint class for stats.
func (s *Server) serveGraph(c *httpCtx) string {
	version, segs, rel, hasRel, fn, ok := parsePath(c.r.URL.EscapedPath())
	if !ok {
		s.fail(c, errBadRequest("Invalid version: %s", firstSegment(c.r.URL.Path)))
		return "unknown"
	}
	if err := s.authenticate(c.r); err != nil {
		s.fail(c, err)
		return "auth.rejected"
	}
	rq := &request{s: s, version: version, segs: segs, relPath: rel, hasRel: hasRel, fnArgs: fn, httpCtx: c, mailbox: -1}
	if err := rq.rewrite(); err != nil {
		s.fail(c, err)
		return "graph.unresolved"
	}
	rt, params, methodMismatch := s.router.match(c.r.Method, rq.segs)
	if rt == nil {
		if err := s.mailboxPathFault(rq.segs); err != nil {
			s.fail(c, err) // a blocked mailbox refuses paths not served here too
			return "unknown"
		}
		if methodMismatch {
			s.fail(c, errMethodNotAllowed())
		} else {
			s.fail(c, errBadRequest("Resource not found for the segment '%s'.", lastSegment(rq.segs)))
		}
		return "unknown"
	}
	rq.route, rq.params = rt, params
	q, qerr := parseQuery(c.r)
	if qerr != nil {
		s.fail(c, qerr)
		return rt.class
	}
	rq.q = q
	rq.pref = parsePrefer(c.r.Header)
	if rt.service == "exchange" {
		if u, err := s.lookupUser(params["user"]); err == nil {
			rq.mailbox = u.idx
		}
	}
	if s.faults.before(rq) {
		return rt.class
	}
	release, terr := s.throttle.admit(rq)
	if terr != nil {
		s.fail(c, terr)
		return rt.class
	}
	defer release()
	if err := s.persistentFault(rq); err != nil {
		s.stats.fault("persistent")
		s.fail(c, err)
		return rt.class
	}
	if err := s.transientFault(rq); err != nil {
		s.fail(c, err)
		return rt.class
	}
	if err := rt.handle(rq); err != nil {
		s.fail(c, err)
	}
	return rt.class
}

func firstSegment(p string) string {
	p = strings.TrimPrefix(p, "/")
	f, _, _ := strings.Cut(p, "/")
	return f
}

func lastSegment(segs []string) string {
	if len(segs) == 0 {
		return ""
	}
	return segs[len(segs)-1]
}

// fail writes err with Graph's envelope.
func (s *Server) fail(c *httpCtx, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = newError(http.StatusInternalServerError, "InternalServerError", "%s", err.Error())
	}
	if c.w.wrote {
		return // a body is already on its way; nothing sane can follow it
	}
	writeRawError(c.w, c.clientReqID, ae, s.now())
}

func (s *Server) lookupUser(key string) (*user, *apiError) {
	if key == "" {
		return nil, errBadRequest("Missing user id.")
	}
	u, ok := s.t.userByKey(key)
	if !ok {
		return nil, errResourceNotFound(key)
	}
	return u, nil
}

// baseURL is where download and upload URLs point.
func (s *Server) baseURL(r *http.Request) string {
	if s.opts.BaseURL != "" {
		return strings.TrimRight(s.opts.BaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// graphLink builds an absolute Graph URL for nextLink/deltaLink.
func (rq *request) graphLink(path string) string {
	return strings.TrimRight(rq.s.opts.GraphURL, "/") + "/" + rq.version + "/" + path
}

// respWriter counts what is sent and remembers the status.
type respWriter struct {
	http.ResponseWriter
	code  int
	bytes int64
	wrote bool
}

func (w *respWriter) WriteHeader(code int) {
	if !w.wrote {
		w.code = code
		w.wrote = true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *respWriter) Write(p []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

func (w *respWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

func (w *respWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *respWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := w.ResponseWriter.(http.Hijacker); ok {
		return h.Hijack()
	}
	return nil, nil, errors.New("hijacking not supported")
}

func (w *respWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func itoa64(v int64) string { return strconv.FormatInt(v, 10) }
