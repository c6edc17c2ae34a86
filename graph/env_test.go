package graph

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/m365"
)

// env is a simulated tenant served in-process, reached by the real SDK
// through the client's routed transport, exactly as in production.
type env struct {
	t     *testing.T
	sim   *graphsim.Server
	srv   *httptest.Server
	clock *graphsim.ManualClock
	info  graphsim.Info
}

const (
	simClient = "graphsim-client"
	simSecret = "graphsim-secret"
)

// newEnv starts a simulator (seed 10: users 1 and 4 have no mailbox),
// optionally behind wrap.
func newEnv(t *testing.T, wrap func(http.Handler) http.Handler) *env {
	t.Helper()
	clock := graphsim.NewManualClock(time.Date(2025, 7, 1, 12, 0, 0, 0, time.UTC))
	sim := graphsim.New(graphsim.Options{
		Tenant:       graphsim.TenantOptions{Seed: 10, Users: 6, ItemsPerUser: 150, MaxAttachmentSize: 256 << 10},
		ClientID:     simClient,
		ClientSecret: simSecret,
		Clock:        clock,
	})
	h := sim.Handler()
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		_ = sim.Close()
	})
	return &env{t: t, sim: sim, srv: srv, clock: clock, info: sim.Info()}
}

func (e *env) config() Config {
	return Config{TenantID: e.sim.TenantID(), ClientID: simClient, ClientSecret: simSecret, Endpoint: e.srv.URL}
}

func (e *env) client(mod func(*Config)) *Client {
	e.t.Helper()
	cfg := e.config()
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	// Transient failures are retried after milliseconds here, not
	// hundreds of them.
	c.retry.backoff = time.Millisecond
	return c
}

// user returns the i-th user of the tenant.
func (e *env) user(i int) graphsim.InfoUser { return e.info.Users[i] }

// control calls the simulator's /_sim/ API.
func (e *env) control(method, path string, in, out any) {
	e.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.srv.URL+"/_sim/"+path, body)
	resp, err := http.DefaultClient.Do(req)
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
			e.t.Fatalf("/_sim/%s: %v", path, err)
		}
	}
}

func (e *env) state(user, category string) graphsim.State {
	var st graphsim.State
	e.control(http.MethodGet, "state?user="+url.QueryEscape(user)+"&category="+category, nil, &st)
	return st
}

func (e *env) mutate(ops ...graphsim.MutateOp) []graphsim.MutateResult {
	e.t.Helper()
	var out struct {
		Results []graphsim.MutateResult `json:"results"`
	}
	e.control(http.MethodPost, "mutate", map[string]any{"ops": ops}, &out)
	for _, r := range out.Results {
		if r.Error != "" {
			e.t.Fatalf("mutate %s %s: %s", r.Op, r.ID, r.Error)
		}
	}
	return out.Results
}

func (e *env) simStats() graphsim.Stats {
	var st graphsim.Stats
	e.control(http.MethodGet, "stats", nil, &st)
	return st
}

// items returns the state's items (not folders) of one container.
func items(st graphsim.State, containerID string) map[string]graphsim.StateItem {
	out := map[string]graphsim.StateItem{}
	for _, it := range st.Items {
		if it.Kind != "folder" && it.CollectionID == containerID {
			out[it.ID] = it
		}
	}
	return out
}

// enumerate follows a delta round from link to its deltaLink.
func enumerate(t *testing.T, c *Client, mailbox string, cat Category, containerID, link string) (changes []Change, deltaLink string, pages int) {
	t.Helper()
	for {
		p, err := c.DeltaPage(context.Background(), mailbox, cat, containerID, link)
		if err != nil {
			t.Fatalf("delta %s %s: %v", cat, containerID, err)
		}
		pages++
		changes = append(changes, p.Changes...)
		if p.DeltaLink != "" {
			return changes, p.DeltaLink, pages
		}
		link = p.NextLink
	}
}

// fetchBytes reads a whole item through FetchItem.
func fetchBytes(t *testing.T, c *Client, mailbox string, cat Category, id string) []byte {
	t.Helper()
	b, _ := fetchWithMeta(t, c, mailbox, cat, id)
	return b
}

// fetchWithMeta fetches an item and what its content tells of its
// details, if it tells anything.
func fetchWithMeta(t *testing.T, c *Client, mailbox string, cat Category, id string) ([]byte, m365.ItemMeta) {
	t.Helper()
	body, err := c.FetchItem(context.Background(), mailbox, cat, id)
	if err != nil {
		t.Fatalf("fetch %s %s: %v", cat, id, err)
	}
	defer body.Close()
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatalf("read %s %s: %v", cat, id, err)
	}
	var m m365.ItemMeta
	if mr, ok := body.(m365.MetaReader); ok {
		m = mr.ItemMeta()
	}
	return b, m
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// fetchHash reads an item through FetchItem and hashes it as /_sim/state
// does.
func fetchHash(t *testing.T, c *Client, mailbox string, cat Category, id string) (string, int64) {
	t.Helper()
	body, err := c.FetchItem(context.Background(), mailbox, cat, id)
	if err != nil {
		t.Fatalf("fetch %s %s: %v", cat, id, err)
	}
	defer body.Close()
	h := sha256.New()
	n, err := io.Copy(h, body)
	if err != nil {
		t.Fatalf("read %s %s: %v", cat, id, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n
}

func containerByPath(t *testing.T, cs []Container, path ...string) Container {
	t.Helper()
	for _, c := range cs {
		if equalPath(c.Path, path) {
			return c
		}
	}
	t.Fatalf("no container %q", path)
	return Container{}
}

func equalPath(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
