package graphsim

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"
)

func TestMailboxBudgetAnswers429WithRetryAfterUntilTheWindowFrees(t *testing.T) {
	h := newHarness(t, Options{Throttle: ThrottleOptions{MailboxRequests: 5, MailboxWindow: 10 * time.Minute}})
	u := h.user(0)
	other := h.user(1)
	for i := 0; i < 5; i++ {
		h.getJSON("users/"+u+"/mailFolders", http.StatusOK)
	}
	resp := h.do(http.MethodGet, "users/"+u+"/mailFolders", nil)
	e := errorOf(t, h.decode(resp, http.StatusTooManyRequests))
	ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || ra != 600 {
		t.Fatalf("Retry-After %q at the window start, want 600", resp.Header.Get("Retry-After"))
	}
	if e["code"] != "ApplicationThrottled" || e["message"] == "" {
		t.Fatalf("429 body %v", e)
	}
	// Another mailbox and directory calls are not affected.
	h.getJSON("users/"+other+"/mailFolders", http.StatusOK)
	h.getJSON("users", http.StatusOK)
	// Throttled requests count; after the window, calls succeed again.
	h.clock.Advance(9 * time.Minute)
	resp = h.do(http.MethodGet, "users/"+u+"/mailFolders", nil)
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "60" {
		t.Fatalf("late in the window: %d Retry-After %s", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	h.clock.Advance(time.Minute)
	h.getJSON("users/"+u+"/mailFolders", http.StatusOK)
	if st := h.sim.Stats(); st.Throttled429 != 2 || st.Requests["mail.folders"]["429"] != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestMailboxConcurrencyRejectsTheFifthRequestImmediately(t *testing.T) {
	h := newHarness(t, Options{})
	rq := &request{s: h.sim, mailbox: 0, route: &route{service: "exchange"}}
	var releases []func()
	for i := 0; i < 4; i++ {
		rel, err := h.sim.throttle.admit(rq)
		if err != nil {
			t.Fatalf("request %d throttled: %v", i, err)
		}
		releases = append(releases, rel)
	}
	_, err := h.sim.throttle.admit(rq)
	if err == nil || err.status != 429 || err.code != "ApplicationThrottled" || err.message != "Application is over its MailboxConcurrency limit." || err.header["Retry-After"] == "" {
		t.Fatalf("fifth request: %v", err)
	}
	other := &request{s: h.sim, mailbox: 1, route: &route{service: "exchange"}}
	if _, err := h.sim.throttle.admit(other); err != nil {
		t.Fatalf("another mailbox throttled: %v", err)
	}
	releases[0]()
	if _, err := h.sim.throttle.admit(rq); err != nil {
		t.Fatalf("after a release: %v", err)
	}
}

func TestDriveResourceUnitsThrottleWith429Or503(t *testing.T) {
	for _, use503 := range []bool{false, true} {
		h := newHarness(t, Options{Throttle: ThrottleOptions{DriveResourceUnits: 10, DriveWindow: time.Minute, Use503: use503}})
		u := h.user(0)
		drive := h.getJSON("users/"+u+"/drive", http.StatusOK)["id"].(string) // 1 RU
		status := http.StatusOK
		var resp *http.Response
		used := 1
		for status == http.StatusOK {
			resp = h.do(http.MethodGet, "drives/"+drive+"/items/root/children", nil) // 2 RU
			resp.Body.Close()
			status = resp.StatusCode
			used += 2
			if used >= 8 && used <= 10 && resp.Header.Get("RateLimit-Remaining") == "" {
				t.Fatalf("no RateLimit headers at %d of 10 RU", used)
			}
		}
		want := http.StatusTooManyRequests
		if use503 {
			want = http.StatusServiceUnavailable
		}
		if status != want || resp.Header.Get("Retry-After") == "" || resp.Header.Get("x-ms-resource-unit") != "2" {
			t.Fatalf("throttled answer %d, headers %v", status, resp.Header)
		}
		h.clock.Advance(time.Minute)
		h.getJSON("drives/"+drive+"/items/root/children", http.StatusOK)
		// The window that closed let through the requests within its 10
		// RU and refused the one beyond them; the open one holds the
		// listing since.
		ws := h.sim.Stats().DriveWindows
		if len(ws) != 2 || ws[0].Open || ws[0].Units != used-2 || ws[0].Requests != (used-2+1)/2 || ws[0].Refused != 1 ||
			!ws[0].Start.Equal(ws[0].Start.Truncate(time.Minute)) || !ws[1].Open || ws[1].Units != 2 || !ws[1].Start.Equal(ws[0].Start.Add(time.Minute)) {
			t.Fatalf("drive windows %+v, want a closed one of %d units in %d requests and 1 refused, starting on the minute, and an open one of 2 units after it",
				ws, used-2, (used-2+1)/2)
		}
	}
}

func TestFaultsAreDeterministicBySeed(t *testing.T) {
	run := func() []int {
		h := newHarness(t, Options{Faults: FaultOptions{Seed: 3, ErrorRate: 0.3, Rate429: 0.1}})
		var got []int
		for i := 0; i < 40; i++ {
			resp := h.do(http.MethodGet, "users/"+h.user(i%3), nil)
			resp.Body.Close()
			got = append(got, resp.StatusCode)
		}
		return got
	}
	a, b := run(), run()
	failures := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("request %d: %d vs %d", i, a[i], b[i])
		}
		if a[i] != 200 {
			failures++
		}
	}
	if failures < 5 || failures > 30 {
		t.Fatalf("%d of 40 failed with rates 0.3+0.1", failures)
	}
}

func TestConnectionFaultsResetAndTruncate(t *testing.T) {
	h := newHarness(t, Options{})
	u := h.user(0)
	msgs := h.getJSON("users/"+u+"/mailFolders/inbox/messages", http.StatusOK)["value"].([]any)
	mid := msgs[0].(map[string]any)["id"].(string)

	h.sim.SetFaults(FaultOptions{ResetRate: 1, Classes: []string{"mail.message.mime"}})
	req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/v1.0/users/"+u+"/messages/"+mid+"/$value", nil)
	req.Header.Set("Authorization", "Bearer "+h.token)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("reset fault answered %d", resp.StatusCode)
	}

	h.sim.SetFaults(FaultOptions{DropRate: 1, DropAfterBytes: 100, Classes: []string{"mail.message.mime"}})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !errors.Is(err, io.ErrUnexpectedEOF) || len(b) != 100 {
		t.Fatalf("drop: %d bytes, err %v", len(b), err)
	}
	// Other classes are untouched.
	h.getJSON("users/"+u+"/mailFolders", http.StatusOK)
	h.sim.SetFaults(FaultOptions{})
	h.bytes("users/"+u+"/messages/"+mid+"/$value", http.StatusOK)
	// net/http retries a GET once when a reused connection dies first.
	if st := h.sim.Stats(); st.Faults["reset"] < 1 || st.Faults["drop"] != 1 {
		t.Fatalf("fault stats %v", st.Faults)
	}
}

func TestLatencyAndBandwidthUseTheInjectedClock(t *testing.T) {
	h := newHarness(t, Options{})
	u := h.user(0)
	h.sim.SetFaults(FaultOptions{Latency: 250 * time.Millisecond, BandwidthBytesPerSec: 10000})
	before := h.clock.Now()
	b, _ := h.bytes("users/"+u+"/messages/"+h.getJSON("users/"+u+"/mailFolders/inbox/messages", http.StatusOK)["value"].([]any)[0].(map[string]any)["id"].(string)+"/$value", http.StatusOK)
	elapsed := h.clock.Now().Sub(before)
	min := 500*time.Millisecond + time.Duration(len(b))*time.Second/10000
	if elapsed < min-50*time.Millisecond {
		t.Fatalf("clock advanced %v for %d bytes, want at least %v", elapsed, len(b), min)
	}
}
