package graphsim

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestContentRedirectsToDownloadURLThatHonoursRange(t *testing.T) {
	h := newHarness(t, Options{Tenant: TenantOptions{ItemsPerUser: 400}})
	u := h.user(0)
	st, err := h.sim.State(StateFilter{User: u, Category: "files"})
	if err != nil {
		t.Fatal(err)
	}
	var file StateItem
	for _, it := range st.Items {
		if it.Kind == "file" && it.Size > 1000 {
			file = it
			break
		}
	}
	if file.ID == "" {
		t.Fatal("no file")
	}
	resp := h.do(http.MethodGet, "drives/"+file.CollectionID+"/items/"+file.ID+"/content", nil)
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || loc == "" {
		t.Fatalf("content: %d %q", resp.StatusCode, loc)
	}
	lu, _ := url.Parse(loc)
	if !strings.HasSuffix(lu.Path, "/_layouts/15/download.aspx") || !strings.HasPrefix(lu.Query().Get("tempauth"), "v1.") {
		t.Fatalf("download URL shape: %s", loc)
	}
	// The pre-authenticated URL works without Authorization.
	tok := h.token
	h.token = ""
	body, full := h.bytes(loc, http.StatusOK)
	if got := sha256Sum(body); got != file.Hash || int64(len(body)) != file.Size {
		t.Fatalf("downloaded %d bytes hash %s, state says %d %s", len(body), got, file.Size, file.Hash)
	}
	if full.Header.Get("Content-Length") != fmt.Sprint(file.Size) {
		t.Fatalf("Content-Length %s", full.Header.Get("Content-Length"))
	}
	for _, tc := range []struct {
		rng        string
		start, end int64
	}{
		{"bytes=0-9", 0, 9},
		{"bytes=100-", 100, file.Size - 1},
		{"bytes=-17", file.Size - 17, file.Size - 1},
		{fmt.Sprintf("bytes=%d-%d", file.Size-5, file.Size+50), file.Size - 5, file.Size - 1},
	} {
		part, resp := h.bytes(loc, http.StatusPartialContent, "Range", tc.rng)
		want := fmt.Sprintf("bytes %d-%d/%d", tc.start, tc.end, file.Size)
		if resp.Header.Get("Content-Range") != want || string(part) != string(body[tc.start:tc.end+1]) {
			t.Fatalf("%s: Content-Range %q (want %q), %d bytes", tc.rng, resp.Header.Get("Content-Range"), want, len(part))
		}
	}
	_, resp = h.bytes(loc, http.StatusRequestedRangeNotSatisfiable, "Range", fmt.Sprintf("bytes=%d-", file.Size))
	if resp.Header.Get("Content-Range") != fmt.Sprintf("bytes */%d", file.Size) {
		t.Fatalf("416 Content-Range %q", resp.Header.Get("Content-Range"))
	}
	h.token = tok
	// The item JSON's quickXorHash describes the same bytes.
	item := h.getJSON("drives/"+file.CollectionID+"/items/"+file.ID, http.StatusOK)
	qx := item["file"].(map[string]any)["hashes"].(map[string]any)["quickXorHash"]
	if qx != QuickXorBase64(body) || qx != file.QuickXorHash {
		t.Fatalf("quickXorHash %v, bytes give %s", qx, QuickXorBase64(body))
	}
	if n := h.sim.Stats().Fetched["driveItem.content"][file.ID]; n < 5 {
		t.Fatalf("stats counted %d downloads of %s", n, file.ID)
	}
}

func sha256Sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestDownloadURLsExpire(t *testing.T) {
	h := newHarness(t, Options{})
	u := h.user(0)
	vals, _, _ := h.collect("users/" + u + "/drive/root/delta")
	var loc string
	for _, v := range vals {
		if d, ok := v["@microsoft.graph.downloadUrl"].(string); ok {
			loc = d
			break
		}
	}
	h.bytes(loc, http.StatusOK)
	h.clock.Advance(2 * 3600e9)
	body, resp := h.bytes(loc, http.StatusUnauthorized)
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || !strings.Contains(string(body), "expired") {
		t.Fatalf("expired URL answer: %s", body)
	}
}

func TestEveryFileHashMatchesItsDownloadedBytes(t *testing.T) {
	h := newHarness(t, noRevoke(Options{Tenant: TenantOptions{Users: 2, ItemsPerUser: 200, ItemsPerSite: 30}}))
	st, _ := h.sim.State(StateFilter{Category: "files"})
	drift := map[string]bool{}
	for _, e := range st.Expected {
		if e.Cause == "sizeDrift" {
			drift[e.ItemID] = true
		}
	}
	n := 0
	for _, it := range st.Items {
		if it.Kind != "file" {
			continue
		}
		item := h.getJSON("drives/"+it.CollectionID+"/items/"+it.ID, http.StatusOK)
		body, _ := h.bytes(item["@microsoft.graph.downloadUrl"].(string), http.StatusOK)
		// A file SharePoint rewrites downloads other bytes than its
		// listing describes; the state keeps the downloaded hash.
		listedMatches := QuickXorBase64(body) == it.QuickXorHash
		if sha256Sum(body) != it.Hash || int64(len(body)) != it.Size || listedMatches == drift[it.ID] {
			t.Fatalf("%s: hashes differ", it.Name)
		}
		n++
	}
	if n < 20 {
		t.Fatalf("only %d files checked", n)
	}
}
