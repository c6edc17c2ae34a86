package export

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/corso-temporal/corso/graphsim"
)

// tenant is a simulated Microsoft 365 tenant served in-process; its items
// are fetched exactly as a backup stores them.
type tenant struct {
	t     testing.TB
	sim   *graphsim.Server
	srv   *httptest.Server
	token string
	info  graphsim.Info
}

func newTenant(t testing.TB) *tenant {
	t.Helper()
	// A clean tenant: these tests read its content with plain requests to
	// check export formats, not a client's handling of faults.
	sim := graphsim.New(graphsim.Options{
		Tenant:       graphsim.TenantOptions{Seed: 10, Users: 3, ItemsPerUser: 150, Clean: true},
		ClientID:     "c",
		ClientSecret: "s",
	})
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() {
		srv.Close()
		_ = sim.Close()
	})
	tn := &tenant{t: t, sim: sim, srv: srv}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	tn.control(http.MethodPost, "token", nil, &tok)
	if tok.AccessToken == "" {
		t.Fatal("simulator issued no token")
	}
	tn.token = tok.AccessToken
	tn.control(http.MethodGet, "info", nil, &tn.info)
	return tn
}

// control calls the simulator's control API.
func (tn *tenant) control(method, path string, in, out any) {
	tn.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, tn.srv.URL+"/_sim/"+path, body)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tn.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		tn.t.Fatalf("%s /_sim/%s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			tn.t.Fatalf("/_sim/%s: %v", path, err)
		}
	}
}

// call makes an authenticated Graph call; path starts with /v1.0 or /beta.
func (tn *tenant) call(method, path string, body any) (int, []byte) {
	tn.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, tn.srv.URL+strings.ReplaceAll(path, " ", "%20"), rd)
	if err != nil {
		tn.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tn.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tn.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tn.t.Fatal(err)
	}
	return resp.StatusCode, b
}

func (tn *tenant) get(path string) []byte {
	tn.t.Helper()
	code, b := tn.call(http.MethodGet, path, nil)
	if code != http.StatusOK {
		tn.t.Fatalf("GET %s: %d %s", path, code, b)
	}
	return b
}

func (tn *tenant) state(user, category string) graphsim.State {
	tn.t.Helper()
	var st graphsim.State
	tn.control(http.MethodGet, "state?hashes=false&user="+url.QueryEscape(user)+"&category="+category, nil, &st)
	return st
}

func (tn *tenant) mailboxUsers() []graphsim.InfoUser {
	var out []graphsim.InfoUser
	for _, u := range tn.info.Users {
		if u.HasMailbox {
			out = append(out, u)
		}
	}
	if len(out) == 0 {
		tn.t.Fatal("the tenant has no mailbox")
	}
	return out
}

func (tn *tenant) post(path string, body any) map[string]any {
	tn.t.Helper()
	code, b := tn.call(http.MethodPost, path, body)
	if code != http.StatusCreated && code != http.StatusOK {
		tn.t.Fatalf("POST %s: %d %s", path, code, b)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		tn.t.Fatalf("POST %s: %v", path, err)
	}
	return m
}

// storedEvent is an event's content as a backup stores it: the beta event
// with its exceptions and attachments expanded. Where the simulator does
// not expand attachments, they are fetched and merged in.
func (tn *tenant) storedEvent(user, id string) []byte {
	tn.t.Helper()
	b := tn.get("/beta/users/" + user + "/events/" + url.PathEscape(id) + "?$expand=exceptionOccurrences,attachments")
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(b, &doc); err != nil {
		tn.t.Fatal(err)
	}
	if _, ok := doc["attachments"]; ok {
		return b
	}
	var list struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(tn.get("/v1.0/users/"+user+"/events/"+url.PathEscape(id)+"/attachments"), &list); err != nil {
		tn.t.Fatal(err)
	}
	doc["attachments"] = list.Value
	out, err := json.Marshal(doc)
	if err != nil {
		tn.t.Fatal(err)
	}
	return out
}

func (tn *tenant) storedContact(user, id string) []byte {
	return tn.get("/v1.0/users/" + user + "/contacts/" + url.PathEscape(id))
}

func (tn *tenant) storedMessage(user, id string) []byte {
	return tn.get("/v1.0/users/" + user + "/messages/" + url.PathEscape(id) + "/$value")
}

// folderChains maps each folder id of a state to its chain of display
// names from the mailbox root. A state gives each folder's path with "/"
// separators; names may hold "/" themselves, so a chain is found by
// peeling off the folder's own name and looking the parent up by path.
func folderChains(st graphsim.State) map[string][]string {
	byPath := map[string]graphsim.StateItem{}
	for _, it := range st.Items {
		if it.Kind == "folder" {
			byPath[it.Category+"\x00"+it.Path] = it
		}
	}
	out := map[string][]string{}
	var chain func(it graphsim.StateItem) []string
	chain = func(it graphsim.StateItem) []string {
		if c, ok := out[it.ID]; ok {
			return c
		}
		var c []string
		if parentPath, ok := strings.CutSuffix(it.Path, "/"+it.Name); ok {
			if p, ok := byPath[it.Category+"\x00"+parentPath]; ok {
				c = append(append(c, chain(p)...), it.Name)
			}
		}
		if c == nil {
			c = []string{it.Name}
		}
		out[it.ID] = c
		return c
	}
	for _, it := range st.Items {
		if it.Kind == "folder" {
			chain(it)
		}
	}
	return out
}
