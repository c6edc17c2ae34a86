package graphsim

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func (h *harness) control(method, name, body string, want int) map[string]any {
	h.t.Helper()
	req, _ := http.NewRequest(method, h.srv.URL+"/_sim/"+name, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		h.t.Fatalf("%s /_sim/%s: %d %s", method, name, resp.StatusCode, b)
	}
	var m map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			h.t.Fatalf("/_sim/%s: %v", name, err)
		}
	}
	return m
}

func TestControlAPIDrivesTheSimulatorOverHTTP(t *testing.T) {
	h := newHarness(t, Options{})
	info := h.control("GET", "info", "", 200)
	u := info["users"].([]any)[0].(map[string]any)
	uid := u["id"].(string)

	st := h.control("GET", "state?user="+uid+"&category=mail", "", 200)
	items := st["items"].([]any)
	var msg map[string]any
	for _, it := range items {
		if it.(map[string]any)["kind"] == "message" {
			msg = it.(map[string]any)
			break
		}
	}
	if msg == nil || msg["hash"] == "" || st["stateHash"] == "" {
		t.Fatalf("state: %v", msg)
	}
	raw, _ := h.bytes("users/"+uid+"/messages/"+msg["id"].(string)+"/$value", 200)
	if sha256Sum(raw) != msg["hash"] {
		t.Fatalf("state hash of a message is not the hash of its MIME")
	}
	stats := h.control("GET", "stats", "", 200)
	if stats["fetched"].(map[string]any)["message.mime"].(map[string]any)[msg["id"].(string)] != 1.0 {
		t.Fatalf("fetched: %v", stats["fetched"])
	}
	if stats["bytesServed"].(float64) < float64(len(raw)) {
		t.Fatalf("bytes served %v", stats["bytesServed"])
	}

	res := h.control("POST", "mutate", `{"ops":[{"op":"modify","id":"`+msg["id"].(string)+`"},{"op":"churn","seed":3,"rate":0.05},{"op":"delete","id":"nope"}]}`, 200)
	results := res["results"].([]any)
	if results[0].(map[string]any)["op"] != "modify" || results[len(results)-1].(map[string]any)["error"] == "" {
		t.Fatalf("mutate results %v", results)
	}
	st2 := h.control("GET", "state?hashes=false", "", 200)
	if st2["stateHash"] == st["stateHash"] {
		t.Fatalf("state did not change")
	}

	h.control("PUT", "throttle", `{"mailboxRequests":1,"mailboxWindowSeconds":60}`, 200)
	h.getJSON("users/"+uid+"/mailFolders", 200)
	h.getJSON("users/"+uid+"/mailFolders", 429)
	th := h.control("GET", "throttle", "", 200)
	if th["mailboxRequests"] != 1.0 || th["mailboxConcurrency"] != 4.0 {
		t.Fatalf("throttle %v", th)
	}
	h.control("PUT", "throttle", `{}`, 200)
	h.control("PUT", "faults", `{"errorRate":1,"errorStatuses":[502],"classes":["users.get"]}`, 200)
	e := errorOf(t, h.getJSON("users/"+uid, 502))
	if e["code"] != "BadGateway" {
		t.Fatalf("fault code %v", e["code"])
	}
	h.control("PUT", "faults", `{}`, 200)
	tok := h.control("POST", "token", "", 200)["access_token"].(string)
	h.token = tok
	h.getJSON("users/"+uid, 200)

	h.control("POST", "reset", "", 204)
	st3 := h.control("GET", "state?hashes=false", "", 200)
	base := New(Options{Tenant: h.sim.opts.Tenant})
	want, _ := base.State(StateFilter{NoHashes: true})
	if st3["stateHash"] != want.StateHash {
		t.Fatalf("reset did not restore the generated tenant")
	}
	h.control("GET", "nothing", "", 404)
}
