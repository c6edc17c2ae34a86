package graphsim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// harness runs a simulator in-process and talks to it the way the product
// does: Graph URLs keep https://graph.microsoft.com and a transport routes
// them to the simulator.
type harness struct {
	t     testing.TB
	sim   *Server
	srv   *httptest.Server
	clock *ManualClock
	token string
	http  *http.Client
}

var testNow = time.Date(2025, 7, 1, 12, 0, 0, 0, time.UTC)

func newHarness(t testing.TB, o Options) *harness {
	t.Helper()
	clock := NewManualClock(testNow)
	if o.Clock == nil {
		o.Clock = clock
	}
	if o.Tenant.Users == 0 {
		o.Tenant.Users = 4
	}
	if o.Tenant.ItemsPerUser == 0 {
		o.Tenant.ItemsPerUser = 120
	}
	if o.Tenant.Seed == 0 {
		o.Tenant.Seed = 7
	}
	if o.Tenant.MaxFileSize == 0 {
		o.Tenant.MaxFileSize = 2 << 20
	}
	sim := New(o)
	srv := httptest.NewServer(sim.Handler())
	h := &harness{t: t, sim: sim, srv: srv, clock: clock}
	target, _ := url.Parse(srv.URL)
	h.http = &http.Client{
		Transport: rewriteTransport{base: http.DefaultTransport, host: target.Host},
		// Like kiota's client: redirects are the caller's business.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	h.token, _ = sim.IssueToken()
	t.Cleanup(func() {
		srv.Close()
		sim.Close()
	})
	return h
}

type rewriteTransport struct {
	base http.RoundTripper
	host string
}

func (rt rewriteTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.EqualFold(r.URL.Hostname(), "graph.microsoft.com") {
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host, r.Host = "http", rt.host, rt.host
	}
	return rt.base.RoundTrip(r)
}

// graph makes an authenticated call; path is relative to /v1.0 unless it
// is absolute.
func (h *harness) do(method, path string, body io.Reader, hdr ...string) *http.Response {
	h.t.Helper()
	u := path
	if !strings.HasPrefix(path, "http") {
		if !strings.HasPrefix(path, "/") {
			path = "/v1.0/" + path
		}
		u = "https://graph.microsoft.com" + path
	}
	u = strings.ReplaceAll(u, " ", "%20")
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		h.t.Fatal(err)
	}
	if h.token != "" {
		req.Header.Set("Authorization", "Bearer "+h.token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := h.http.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, u, err)
	}
	return resp
}

// getJSON fetches and decodes, failing the test unless the status matches.
func (h *harness) getJSON(path string, wantStatus int, hdr ...string) map[string]any {
	h.t.Helper()
	resp := h.do(http.MethodGet, path, nil, hdr...)
	return h.decode(resp, wantStatus)
}

func (h *harness) sendJSON(method, path string, body any, wantStatus int, hdr ...string) map[string]any {
	h.t.Helper()
	b, _ := json.Marshal(body)
	resp := h.do(method, path, strings.NewReader(string(b)), hdr...)
	return h.decode(resp, wantStatus)
}

func (h *harness) decode(resp *http.Response, wantStatus int) map[string]any {
	h.t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		h.t.Fatalf("%s %s: status %d, want %d: %s", resp.Request.Method, resp.Request.URL, resp.StatusCode, wantStatus, b)
	}
	if len(b) == 0 {
		return nil
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		h.t.Fatalf("%s: content type %q", resp.Request.URL, ct)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		h.t.Fatalf("%s: %v: %s", resp.Request.URL, err, b)
	}
	return m
}

func (h *harness) bytes(path string, wantStatus int, hdr ...string) ([]byte, *http.Response) {
	h.t.Helper()
	resp := h.do(http.MethodGet, path, nil, hdr...)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("%s: %v", path, err)
	}
	if resp.StatusCode != wantStatus {
		h.t.Fatalf("%s: status %d, want %d: %s", path, resp.StatusCode, wantStatus, b)
	}
	return b, resp
}

// collect follows nextLinks until a deltaLink (or the end) and returns all
// values and the deltaLink.
func (h *harness) collect(path string, hdr ...string) (values []map[string]any, deltaLink string, pages int) {
	h.t.Helper()
	next := path
	for next != "" && pages < 10000 {
		page := h.getJSON(next, http.StatusOK, hdr...)
		pages++
		for _, v := range page["value"].([]any) {
			values = append(values, v.(map[string]any))
		}
		next, _ = page["@odata.nextLink"].(string)
		if dl, ok := page["@odata.deltaLink"].(string); ok {
			deltaLink = dl
		}
	}
	return values, deltaLink, pages
}

func (h *harness) user(i int) string {
	h.sim.t.directory()
	return h.sim.t.users[i].id
}

func ids(values []map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, v := range values {
		out[v["id"].(string)] = v
	}
	return out
}
