package conformance

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/corso-temporal/corso/graphsim"
)

// someFiles returns up to n files of the round with at least minSize
// bytes, the largest first (ties by id), with their ground truth.
func someFiles(t *testing.T, r deltaRound, truth map[string]graphsim.StateItem, n int, minSize int64) []models.DriveItemable {
	t.Helper()
	var out []models.DriveItemable
	for id, it := range r.items() {
		if it.GetFile() != nil && truth[id].Size >= minSize {
			out = append(out, it)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		si, sj := deref(out[i].GetSize()), deref(out[j].GetSize())
		if si != sj {
			return si > sj
		}
		return deref(out[i].GetId()) < deref(out[j].GetId())
	})
	if len(out) == 0 {
		t.Fatalf("no file of at least %d bytes", minSize)
	}
	return out[:min(n, len(out))]
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// plainGet fetches a pre-authenticated URL without the Graph client: no
// Authorization, no rerouting (the URL names the simulator's listener).
func (e *env) plainGet(u string, header map[string]string) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.ctx, http.MethodGet, u, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, b
}

// TestContentGetFollowsRedirectAndMatchesStateHashes downloads files with
// the SDK's Items().ByDriveItemId(id).Content().Get(): /content answers 302
// to the pre-authenticated URL, kiota's RedirectHandler follows it without
// the Authorization header (another host), and the bytes hash to the
// ground truth's SHA-256 and to the file facet's quickXorHash.
func TestContentGetFollowsRedirectAndMatchesStateHashes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.user0()
	r := e.rootDelta(u.DriveID, 200)
	truth := stateByID(e.state(u.ID, "files"), u.ID)
	for _, it := range someFiles(t, r, truth, 3, 1) {
		id := deref(it.GetId())
		e.resetLog()
		b, err := e.client.Drives().ByDriveId(u.DriveID).Items().ByDriveItemId(id).Content().Get(e.ctx, nil)
		if err != nil {
			t.Fatalf("%s: content: %v", id, err)
		}
		want := truth[id]
		if int64(len(b)) != want.Size || sha256Hex(b) != want.Hash {
			t.Errorf("%s: %d bytes sha256 %s, ground truth %d bytes %s", id, len(b), sha256Hex(b), want.Size, want.Hash)
		}
		if q := quickXorHash(b); q != quickXorOf(it) {
			t.Errorf("%s: bytes hash to quickXorHash %s, file facet says %s", id, q, quickXorOf(it))
		}
		content := e.requests("/items/" + id + "/content")
		if len(content) != 1 || content[0].Status != http.StatusFound || !content[0].Auth || content[0].Location == "" {
			t.Fatalf("%s: /content requests %+v, want one authorized 302 with a Location", id, content)
		}
		loc, _ := url.Parse(content[0].Location)
		dl := e.requests(loc.Path)
		if len(dl) != 1 || dl[0].Status != http.StatusOK {
			t.Fatalf("%s: redirect target requests %+v, want one 200", id, dl)
		}
		if dl[0].Auth {
			t.Errorf("%s: the Authorization header was sent to the pre-authenticated URL", id)
		}
	}
}

// TestDownloadURLRangeAnswers206WithExactBytes fetches a file's
// @microsoft.graph.downloadUrl with a plain client: the whole file matches
// the ground truth, and single byte ranges answer 206 with Content-Range,
// Content-Length and exactly those bytes; a range past the end is 416.
func TestDownloadURLRangeAnswers206WithExactBytes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.user0()
	r := e.rootDelta(u.DriveID, 200)
	truth := stateByID(e.state(u.ID, "files"), u.ID)
	it := someFiles(t, r, truth, 1, 4096)[0]
	id, dl := deref(it.GetId()), downloadURL(it)
	size := truth[id].Size

	resp, full := e.plainGet(dl, nil)
	if resp.StatusCode != http.StatusOK || int64(len(full)) != size || sha256Hex(full) != truth[id].Hash {
		t.Fatalf("full GET: %d, %d bytes sha256 %s; ground truth %d bytes %s", resp.StatusCode, len(full), sha256Hex(full), size, truth[id].Hash)
	}
	if got := resp.Header.Get("Content-Length"); got != fmt.Sprint(size) {
		t.Errorf("full GET Content-Length %q, want %d", got, size)
	}

	for _, rg := range []struct {
		spec       string
		start, end int64 // inclusive
	}{
		{"bytes=0-0", 0, 0},
		{"bytes=1000-2999", 1000, 2999},
		{fmt.Sprintf("bytes=%d-%d", size-17, size-1), size - 17, size - 1},
		{fmt.Sprintf("bytes=%d-", size-100), size - 100, size - 1},
		{fmt.Sprintf("bytes=%d-%d", size-5, size+1000), size - 5, size - 1}, // end clamps to the size
	} {
		resp, b := e.plainGet(dl, map[string]string{"Range": rg.spec})
		if resp.StatusCode != http.StatusPartialContent {
			t.Errorf("%s: status %d, want 206", rg.spec, resp.StatusCode)
			continue
		}
		if got, want := resp.Header.Get("Content-Range"), fmt.Sprintf("bytes %d-%d/%d", rg.start, rg.end, size); got != want {
			t.Errorf("%s: Content-Range %q, want %q", rg.spec, got, want)
		}
		if got, want := resp.Header.Get("Content-Length"), fmt.Sprint(rg.end-rg.start+1); got != want {
			t.Errorf("%s: Content-Length %q, want %s", rg.spec, got, want)
		}
		if !bytes.Equal(b, full[rg.start:rg.end+1]) {
			t.Errorf("%s: %d bytes that differ from the file's bytes %d-%d", rg.spec, len(b), rg.start, rg.end)
		}
	}

	resp, _ = e.plainGet(dl, map[string]string{"Range": fmt.Sprintf("bytes=%d-%d", size, size+10)})
	if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		t.Errorf("range past the end: status %d, want 416", resp.StatusCode)
	} else if got, want := resp.Header.Get("Content-Range"), fmt.Sprintf("bytes */%d", size); got != want {
		t.Errorf("416 Content-Range %q, want %q", got, want)
	}
}

// TestExpiredDownloadURLAnswersUnauthorized checks download URL expiry as
// graph_sim.md describes it (tempauth exp claim; 401/403 once expired):
// under the ExpireDownloadURLs fault every URL is refused and works again
// when the fault is lifted; after DownloadURLTTL the same URL is refused
// for good, while /content through the SDK mints a fresh one that works.
func TestExpiredDownloadURLAnswersUnauthorized(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.user0()
	r := e.rootDelta(u.DriveID, 200)
	truth := stateByID(e.state(u.ID, "files"), u.ID)
	it := someFiles(t, r, truth, 1, 1)[0]
	id, dl := deref(it.GetId()), downloadURL(it)

	// Clients such as Corso pre-check expiry from the tempauth token.
	exp := tempAuthExpiry(t, dl)
	now := e.clock.Now()
	if !exp.After(now) || exp.After(now.Add(10*time.Minute)) {
		t.Errorf("tempauth exp %s, want within DownloadURLTTL (10m) of %s", exp, now)
	}

	refused := func(what string) {
		t.Helper()
		resp, body := e.plainGet(dl, nil)
		if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: status %d, want 401 or 403", what, resp.StatusCode)
			return
		}
		t.Logf("%s: %d %s", what, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	if resp, _ := e.plainGet(dl, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("fresh download URL: status %d", resp.StatusCode)
	}
	e.control(http.MethodPut, "faults", map[string]any{"expireDownloadUrls": true}, nil)
	refused("under ExpireDownloadURLs")
	e.control(http.MethodPut, "faults", map[string]any{}, nil)
	if resp, _ := e.plainGet(dl, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("after lifting the fault: status %d, want 200", resp.StatusCode)
	}

	e.clock.Advance(11 * time.Minute)
	refused("after DownloadURLTTL")
	b, err := e.client.Drives().ByDriveId(u.DriveID).Items().ByDriveItemId(id).Content().Get(e.ctx, nil)
	if err != nil {
		t.Fatalf("content after the old URL expired: %v", err)
	}
	if sha256Hex(b) != truth[id].Hash {
		t.Errorf("content after expiry: sha256 %s, ground truth %s", sha256Hex(b), truth[id].Hash)
	}
	fresh, err := e.client.Drives().ByDriveId(u.DriveID).Items().ByDriveItemId(id).Get(e.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := e.plainGet(downloadURL(fresh), nil); resp.StatusCode != http.StatusOK {
		t.Errorf("fresh download URL from GET item: status %d, want 200", resp.StatusCode)
	}
}

// tempAuthExpiry decodes the exp claim of a download URL's tempauth token
// (JWT-shaped, optionally Microsoft's "v1." 4-segment form).
func tempAuthExpiry(t *testing.T, dl string) time.Time {
	t.Helper()
	u, err := url.Parse(dl)
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimPrefix(u.Query().Get("tempauth"), "v1.")
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("tempauth %q is not JWT-shaped", tok)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("tempauth payload: %v", err)
	}
	var claims struct {
		Exp int64 `json:"exp"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil || claims.Exp == 0 {
		t.Fatalf("tempauth payload %s has no exp (%v)", raw, err)
	}
	return time.Unix(claims.Exp, 0)
}
