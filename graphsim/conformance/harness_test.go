package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	kauth "github.com/microsoft/kiota-abstractions-go/authentication"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	azauth "github.com/microsoftgraph/msgraph-sdk-go-core/authentication"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/corso-temporal/corso/graphsim"
)

const (
	simClient = "conformance-client"
	simSecret = "conformance-secret"

	graphHost = "graph.microsoft.com"
	loginHost = "login.microsoftonline.com"
	graphRoot = "https://" + graphHost + "/v1.0"

	// testTimeout bounds every test's SDK calls; the whole package runs in
	// a few seconds.
	testTimeout = 30 * time.Second
)

// seen is one request as it reached the simulator's listener.
type seen struct {
	Method     string
	Path       string // decoded
	EscPath    string // as sent
	RequestURI string
	Auth       bool
	RetryAtt   string
	Status     int
	Location   string
	RetryAfter string
}

// env is a simulated tenant on an httptest listener, wrapped by a recorder,
// with a real SDK client routed to it.
type env struct {
	t      *testing.T
	sim    *graphsim.Server
	srv    *httptest.Server
	clock  *graphsim.ManualClock
	info   graphsim.Info
	client *msgraphsdk.GraphServiceClient
	// adapter is the client's request adapter, for builders created from
	// raw URLs and for the PageIterator.
	adapter *msgraphsdk.GraphRequestAdapter
	ctx     context.Context

	mu     sync.Mutex
	log    []seen
	before func(r *http.Request) // runs before the simulator serves r
}

// newEnv starts a simulator (seed 7, small files so that buffered SDK
// downloads stay cheap) with BaseURL set to its own listener, and a client.
func newEnv(t *testing.T, mod func(*graphsim.Options)) *env {
	t.Helper()
	e := &env{t: t, clock: graphsim.NewManualClock(time.Date(2025, 7, 1, 12, 0, 0, 0, time.UTC))}
	var h http.Handler
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.serve(h, w, r)
	}))
	opts := graphsim.Options{
		Tenant: graphsim.TenantOptions{
			Seed: 7, Users: 4, ItemsPerUser: 120, Groups: 1, Sites: 1, ItemsPerSite: 40,
			MaxFileSize: 192 << 10, MaxAttachmentSize: 64 << 10,
		},
		ClientID:       simClient,
		ClientSecret:   simSecret,
		BaseURL:        e.srv.URL,
		Clock:          e.clock,
		DownloadURLTTL: 10 * time.Minute,
	}
	if mod != nil {
		mod(&opts)
	}
	e.sim = graphsim.New(opts)
	h = e.sim.Handler()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	e.ctx = ctx
	t.Cleanup(func() {
		cancel()
		e.srv.Close()
		_ = e.sim.Close()
	})
	e.info = e.sim.Info()
	e.client, e.adapter = e.newClient(nil)
	return e
}

// serve records r and the simulator's answer. The record is made as the
// status line goes out, so it is in the log before the client has the
// answer.
func (e *env) serve(h http.Handler, w http.ResponseWriter, r *http.Request) {
	if hook := e.hook(); hook != nil {
		hook(r)
	}
	rec := &statusWriter{ResponseWriter: w, onHeader: func(sw *statusWriter) { e.record(r, sw) }}
	h.ServeHTTP(rec, r)
	rec.header(http.StatusOK) // a handler that wrote nothing answers 200
}

func (e *env) record(r *http.Request, rec *statusWriter) {
	e.mu.Lock()
	e.log = append(e.log, seen{
		Method: r.Method, Path: r.URL.Path, EscPath: r.URL.EscapedPath(), RequestURI: r.URL.RequestURI(),
		Auth: r.Header.Get("Authorization") != "", RetryAtt: r.Header.Get("Retry-Attempt"),
		Status: rec.status(), Location: rec.Header().Get("Location"), RetryAfter: rec.Header().Get("Retry-After"),
	})
	e.mu.Unlock()
}

func (e *env) hook() func(*http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.before
}

func (e *env) setHook(f func(*http.Request)) {
	e.mu.Lock()
	e.before = f
	e.mu.Unlock()
}

// requests returns the recorded requests whose decoded path contains sub.
func (e *env) requests(sub string) []seen {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []seen
	for _, s := range e.log {
		if strings.Contains(s.Path, sub) {
			out = append(out, s)
		}
	}
	return out
}

func (e *env) resetLog() {
	e.mu.Lock()
	e.log = nil
	e.mu.Unlock()
}

type statusWriter struct {
	http.ResponseWriter
	code     int
	onHeader func(*statusWriter) // called once, when the status is decided
}

func (w *statusWriter) header(code int) {
	if w.code == 0 {
		w.code = code
		if w.onHeader != nil {
			w.onHeader(w)
		}
	}
}

func (w *statusWriter) WriteHeader(code int) {
	w.header(code)
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	w.header(http.StatusOK)
	return w.ResponseWriter.Write(p)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

// reroute is the parent RoundTripper of wiring B: requests for Graph and the
// identity platform go to the simulator; URLs above it stay Microsoft's.
type reroute struct {
	base   http.RoundTripper
	target *url.URL
}

func (rt reroute) RoundTrip(r *http.Request) (*http.Response, error) {
	switch strings.ToLower(r.URL.Hostname()) {
	case graphHost, loginHost:
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host, r.Host = rt.target.Scheme, rt.target.Host, rt.target.Host
	}
	return rt.base.RoundTrip(r)
}

func (e *env) transport() http.RoundTripper {
	target, err := url.Parse(e.srv.URL)
	if err != nil {
		e.t.Fatal(err)
	}
	return reroute{base: e.srv.Client().Transport, target: target}
}

// newClient builds msgraph-sdk-go the way research wiring B does: the
// Graph core middleware (telemetry, URL replace) followed by kiota's six
// defaults with their default options, over the rerouting transport. auth
// nil means an azidentity client-secret credential against the simulator's
// token endpoint (reached as login.microsoftonline.com).
//
// kiota assembles its defaults from a map, so their order differs between
// runs; they are sorted by type here so that every run exercises the same
// pipeline. None of the behaviours checked depends on the order.
func (e *env) newClient(auth kauth.AuthenticationProvider) (*msgraphsdk.GraphServiceClient, *msgraphsdk.GraphRequestAdapter) {
	e.t.Helper()
	rt := e.transport()
	if auth == nil {
		cred, err := azidentity.NewClientSecretCredential(e.sim.TenantID(), simClient, simSecret,
			&azidentity.ClientSecretCredentialOptions{
				ClientOptions: azcore.ClientOptions{Transport: &http.Client{Transport: rt}},
				// The authority is not a Microsoft cloud MSAL could ask about.
				DisableInstanceDiscovery: true,
			})
		if err != nil {
			e.t.Fatal(err)
		}
		p, err := azauth.NewAzureIdentityAuthenticationProviderWithScopes(cred, []string{"https://" + graphHost + "/.default"})
		if err != nil {
			e.t.Fatal(err)
		}
		auth = p
	}
	opts := msgraphsdk.GetDefaultClientOptions()
	mws := msgraphcore.GetDefaultMiddlewaresWithOptions(&opts)
	kiota := mws[2:]
	sort.SliceStable(kiota, func(i, j int) bool {
		return reflect.TypeOf(kiota[i]).String() < reflect.TypeOf(kiota[j]).String()
	})
	hc := &http.Client{
		Transport:     khttp.NewCustomTransportWithParentTransport(rt, mws...),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       testTimeout,
	}
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, nil, nil, hc)
	if err != nil {
		e.t.Fatal(err)
	}
	return msgraphsdk.NewGraphServiceClient(adapter), adapter
}

// user0 is the tenant's first user, who always has a mailbox and a drive.
func (e *env) user0() graphsim.InfoUser {
	u := e.info.Users[0]
	if !u.HasMailbox || !u.HasDrive || u.DriveID == "" {
		e.t.Fatalf("user 0 %+v lacks a mailbox or drive", u)
	}
	return u
}

// control calls the simulator's /_sim/ API with a plain HTTP client and
// decodes a JSON answer into out (if not nil).
func (e *env) control(method, path string, in, out any) {
	e.t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			e.t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(e.ctx, method, e.srv.URL+"/_sim/"+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		e.t.Fatalf("%s /_sim/%s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s /_sim/%s: %v in %s", method, path, err, b)
		}
	}
}

// mutate applies ops and fails the test on any op error.
func (e *env) mutate(ops ...graphsim.MutateOp) []graphsim.MutateResult {
	e.t.Helper()
	var res struct {
		Results []graphsim.MutateResult `json:"results"`
	}
	e.control(http.MethodPost, "mutate", map[string]any{"ops": ops}, &res)
	for _, r := range res.Results {
		if r.Error != "" {
			e.t.Fatalf("mutate %+v: %s", r, r.Error)
		}
	}
	return res.Results
}

// state is the simulator's ground truth for a user (id or UPN) and
// category, or everything when both are empty.
func (e *env) state(user, category string) graphsim.State {
	e.t.Helper()
	q := url.Values{}
	if user != "" {
		q.Set("user", user)
	}
	if category != "" {
		q.Set("category", category)
	}
	var st graphsim.State
	e.control(http.MethodGet, "state?"+q.Encode(), nil, &st)
	return st
}

func (e *env) stats() graphsim.Stats {
	e.t.Helper()
	var st graphsim.Stats
	e.control(http.MethodGet, "stats", nil, &st)
	return st
}

// odataError asserts that err is an *odataerrors.ODataError with the given
// status and code, a message, and an Error() that does not panic.
func odataError(t *testing.T, err error, status int, code string) *odataerrors.ODataError {
	t.Helper()
	if err == nil {
		t.Fatalf("want ODataError %d %s, got success", status, code)
	}
	var oe *odataerrors.ODataError
	if !errors.As(err, &oe) {
		t.Fatalf("want *odataerrors.ODataError %d %s, got %T: %v", status, code, err, err)
	}
	if oe.ResponseStatusCode != status {
		t.Errorf("status %d, want %d", oe.ResponseStatusCode, status)
	}
	main := oe.GetErrorEscaped()
	if main == nil {
		t.Fatalf("ODataError without an error object")
	}
	if got := deref(main.GetCode()); got != code {
		t.Errorf("code %q, want %q", got, code)
	}
	msg := deref(main.GetMessage())
	if msg == "" {
		t.Errorf("error %s has no message", code)
	}
	text, perr := safeError(oe)
	if perr != nil {
		t.Errorf("ODataError.Error() panicked: %v", perr)
	} else if text != msg {
		t.Errorf("Error() = %q, want the message %q", text, msg)
	}
	return oe
}

// safeError calls Error() and turns a panic into an error.
func safeError(err error) (s string, perr error) {
	defer func() {
		if r := recover(); r != nil {
			perr = fmt.Errorf("%v", r)
		}
	}()
	return err.Error(), nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
