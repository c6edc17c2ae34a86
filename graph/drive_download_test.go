package graph

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/m365"
)

// isDownload reports whether r asks for a pre-authenticated download URL.
func isDownload(r *http.Request) bool {
	return strings.HasSuffix(r.URL.Path, "/_layouts/15/download.aspx")
}

// driveFiles enumerates a drive and returns its files by id.
func driveFiles(t *testing.T, c *Client, driveID string) map[string]DriveItem {
	t.Helper()
	items, _, _ := driveDelta(t, c, driveID, "")
	out := map[string]DriveItem{}
	for _, it := range items {
		if !it.Folder && !it.Root && !it.Deleted {
			out[it.ID] = it
		}
	}
	return out
}

// hashFile reads a file through OpenFile into SHA-256, as the state
// hashes it.
func hashFile(t *testing.T, c *Client, driveID string, it DriveItem) (string, error) {
	t.Helper()
	r, err := c.OpenFile(context.Background(), driveID, it)
	if err != nil {
		return "", err
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func stateHashes(e *env, driveID string) map[string]graphsim.StateItem {
	out := map[string]graphsim.StateItem{}
	for _, it := range e.driveState(driveID) {
		if it.Kind == "file" {
			out[it.ID] = it
		}
	}
	return out
}

func TestOpenFile(t *testing.T) {
	var withToken, downloads atomic.Int64
	watch := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isDownload(r) {
				downloads.Add(1)
				if r.Header.Get("Authorization") != "" {
					withToken.Add(1)
				}
			}
			h.ServeHTTP(w, r)
		})
	}
	e := newDriveEnv(t, driveTenant, watch, nil)
	c := e.client(nil)
	var large int64
	n := 0
	for _, driveID := range []string{e.user(0).DriveID, e.info.Sites[0].DriveID} {
		truth := stateHashes(e, driveID)
		files := driveFiles(t, c, driveID)
		if len(files) != len(truth) {
			t.Fatalf("%d files, the state has %d", len(files), len(truth))
		}
		for id, it := range files {
			got, err := hashFile(t, c, driveID, it)
			if err != nil {
				t.Fatalf("%q: %v", it.Name, err)
			}
			if got != truth[id].Hash {
				t.Errorf("%q: SHA-256 %s, state %s", it.Name, got, truth[id].Hash)
			}
			large = max(large, it.Size)
			n++
		}
	}
	if large < 20<<20 {
		t.Errorf("largest file %d bytes: no large file downloaded", large)
	}
	// The delta's download URLs serve every file: no /content request.
	st := c.Stats().Requests
	if st["drive.content"] != 0 || st["drive.download"] != int64(n) || downloads.Load() != int64(n) {
		t.Errorf("%d files: %d /content, %d downloads (%d seen)", n, st["drive.content"], st["drive.download"], downloads.Load())
	}
	// Without one, Graph is asked where the bytes are.
	for id, it := range driveFiles(t, c, e.user(0).DriveID) {
		it.DownloadURL = ""
		got, err := hashFile(t, c, e.user(0).DriveID, it)
		if err != nil || got != stateHashes(e, e.user(0).DriveID)[id].Hash {
			t.Fatalf("%q without a download URL: %v", it.Name, err)
		}
		break
	}
	if st := c.Stats().Requests; st["drive.content"] != 1 || st["drive.download"] != int64(n)+1 {
		t.Errorf("a file without its URL: %d /content, %d downloads", st["drive.content"], st["drive.download"]-int64(n))
	}
	if withToken.Load() != 0 {
		t.Errorf("%d download requests carried the app's token", withToken.Load())
	}

	// A file that is gone.
	_, err := c.OpenFile(context.Background(), e.user(0).DriveID, DriveItem{ID: "01NOTANITEM", Size: -1})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("missing file: %v", err)
	}
}

// biggestFile is the largest file of a drive.
func biggestFile(t *testing.T, c *Client, driveID string) DriveItem {
	t.Helper()
	var big DriveItem
	for _, it := range driveFiles(t, c, driveID) {
		if it.Size > big.Size {
			big = it
		}
	}
	return big
}

// Connections that drop in the middle of files are resumed where they
// stopped.
func TestOpenFileResumesAfterDrops(t *testing.T) {
	e := newDriveEnv(t, driveTenant, nil, nil)
	c := e.client(nil)
	driveID := e.info.Sites[0].DriveID
	truth := stateHashes(e, driveID)
	files := driveFiles(t, c, driveID)
	e.control(http.MethodPut, "faults", graphsim.FaultOptions{Seed: 3, DropRate: 0.5, Classes: []string{"download"}}, nil)
	n := int64(0)
	for id, it := range files {
		if it.Size < 64<<10 {
			continue
		}
		n++
		got, err := hashFile(t, c, driveID, it)
		if err != nil {
			t.Fatalf("%q (%d bytes): %v", it.Name, it.Size, err)
		}
		if got != truth[id].Hash {
			t.Errorf("%q: SHA-256 %s, state %s", it.Name, got, truth[id].Hash)
		}
	}
	drops := e.simStats().Faults["drop"]
	st := c.Stats().Requests
	t.Logf("%d drops, %d downloads, %d /content", drops, st["drive.download"], st["drive.content"])
	if drops < 10 || st["drive.download"] != n+drops {
		t.Errorf("%d files, %d drops, %d download requests", n, drops, st["drive.download"])
	}
	if st["drive.content"] != 0 {
		t.Errorf("%d /content requests: download URLs fetched again without need", st["drive.content"])
	}
}

// cutFirst cuts the first download answer after n bytes, then calls
// after.
func cutFirst(n int64, after func()) func(http.Handler) http.Handler {
	var once sync.Once
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			cut := false
			if isDownload(r) {
				once.Do(func() { cut = true })
			}
			if !cut {
				h.ServeHTTP(w, r)
				return
			}
			cw := &cuttingWriter{ResponseWriter: w, left: n}
			defer func() {
				if cw.cut {
					after()
					panic(http.ErrAbortHandler)
				}
			}()
			h.ServeHTTP(cw, r)
		})
	}
}

type cuttingWriter struct {
	http.ResponseWriter
	left int64
	cut  bool
}

func (w *cuttingWriter) Write(p []byte) (int, error) {
	if w.cut {
		return 0, errors.New("cut")
	}
	if int64(len(p)) > w.left {
		p = p[:w.left]
		w.cut = true
	}
	n, _ := w.ResponseWriter.Write(p)
	w.left -= int64(n)
	if w.cut {
		if f, ok := w.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
		return n, errors.New("cut")
	}
	return n, nil
}

// A download whose URL expired while its connection was down gets a
// fresh URL and goes on from where it stopped.
func TestOpenFileExpiredURL(t *testing.T) {
	var e *env
	var refused atomic.Int64
	expire := cutFirst(3<<20, func() { e.clock.Advance(2 * time.Hour) })
	watch := func(h http.Handler) http.Handler {
		inner := expire(h)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := &statusRecorder{ResponseWriter: w}
			inner.ServeHTTP(rec, r)
			if isDownload(r) && rec.status == http.StatusUnauthorized {
				refused.Add(1)
			}
		})
	}
	// Access tokens outlive the clock's jump; download URLs do not.
	e = newDriveEnv(t, driveTenant, watch, func(o *graphsim.Options) { o.AccessTokenTTL = 24 * time.Hour })
	c := e.client(nil)
	driveID := e.user(0).DriveID
	big := biggestFile(t, c, driveID)
	if big.Size < 8<<20 {
		t.Fatalf("largest file has %d bytes", big.Size)
	}
	got, err := hashFile(t, c, driveID, big)
	if err != nil {
		t.Fatal(err)
	}
	if want := stateHashes(e, driveID)[big.ID].Hash; got != want {
		t.Errorf("SHA-256 %s, state %s", got, want)
	}
	st := c.Stats().Requests
	// The delta's URL, cut off; the same URL, refused; a fresh one.
	if refused.Load() != 1 || st["drive.content"] != 1 || st["drive.download"] != 3 {
		t.Errorf("%d refused, %d /content, %d downloads; want 1, 1, 3", refused.Load(), st["drive.content"], st["drive.download"])
	}

	// URLs that are always expired: a few fresh ones, then an error that
	// does not blame the app's credentials.
	e.control(http.MethodPut, "faults", graphsim.FaultOptions{ExpireDownloadURLs: true}, nil)
	_, err = c.OpenFile(context.Background(), driveID, big)
	if err == nil || errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "refused") {
		t.Errorf("expired URLs: %v", err)
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusRecorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// flipByte changes one byte of every download answer at offset off.
type flipWriter struct {
	http.ResponseWriter
	at, pos int64
}

func (w *flipWriter) Write(p []byte) (int, error) {
	if w.at >= w.pos && w.at < w.pos+int64(len(p)) {
		q := append([]byte(nil), p...)
		q[w.at-w.pos] ^= 0x20
		p = q
	}
	w.pos += int64(len(p))
	return w.ResponseWriter.Write(p)
}

func TestOpenFileDetectsCorruption(t *testing.T) {
	var corrupt atomic.Bool
	flip := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isDownload(r) && corrupt.Load() {
				w = &flipWriter{ResponseWriter: w, at: 1000}
			}
			h.ServeHTTP(w, r)
		})
	}
	e := newDriveEnv(t, driveTenant, flip, nil)
	c := e.client(nil)
	driveID := e.user(0).DriveID
	var it DriveItem
	for _, f := range driveFiles(t, c, driveID) {
		if f.Size > 4000 && (it.ID == "" || f.ID < it.ID) {
			it = f
		}
	}
	corrupt.Store(true)
	if _, err := readAllFile(t, c, driveID, it); !errors.Is(err, m365.ErrContentMismatch) {
		t.Errorf("flipped byte: %v", err)
	}
	corrupt.Store(false)
	if _, err := readAllFile(t, c, driveID, it); err != nil {
		t.Errorf("intact: %v", err)
	}
	wrongSize := it
	wrongSize.Size++
	if _, err := readAllFile(t, c, driveID, wrongSize); !errors.Is(err, m365.ErrContentMismatch) {
		t.Errorf("wrong size: %v", err)
	}
	wrongHash := it
	wrongHash.QuickXorHash = "AAAAAAAAAAAAAAAAAAAAAAAAAAA="
	if _, err := readAllFile(t, c, driveID, wrongHash); !errors.Is(err, m365.ErrContentMismatch) {
		t.Errorf("wrong hash: %v", err)
	}
	// Unknown size and hash: nothing to check against.
	unknown := it
	unknown.Size, unknown.QuickXorHash = -1, ""
	if b, err := readAllFile(t, c, driveID, unknown); err != nil || int64(len(b)) != it.Size {
		t.Errorf("unchecked: %d bytes, %v", len(b), err)
	}
}

// A file of hundreds of megabytes streams through a flat heap.
func TestOpenFileMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads a large file")
	}
	// Seed 3 gives this one-user tenant a file of about 216 MB.
	tenant := graphsim.TenantOptions{Seed: 3, Users: 1, Groups: -1, Sites: -1, ItemsPerUser: 30,
		Mix: graphsim.ItemMix{Files: 1}, MaxFileSize: 400 << 20}
	e := newDriveEnv(t, tenant, nil, nil)
	c := e.client(nil)
	driveID := e.user(0).DriveID
	var big graphsim.StateItem
	for _, it := range e.driveState(driveID) {
		if it.Size > big.Size {
			big = it
		}
	}
	if big.Size < 150<<20 {
		t.Fatalf("largest file has %d bytes", big.Size)
	}
	var path []string
	if big.Path != "" {
		path = strings.Split(big.Path, "/")
	}
	folder, err := c.EnsureDriveFolder(context.Background(), driveID, path)
	if err != nil {
		t.Fatal(err)
	}
	kids, err := c.DriveChildren(context.Background(), driveID, folder)
	if err != nil {
		t.Fatal(err)
	}
	var it DriveItem
	for _, k := range kids {
		if k.ID == big.ID {
			it = k
		}
	}
	if it.QuickXorHash != big.QuickXorHash || it.Size != big.Size {
		t.Fatalf("listed as %+v", it)
	}

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapInuse, ms.HeapInuse
	r, err := c.OpenFile(context.Background(), driveID, it)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	h := sha256.New()
	buf := make([]byte, 64<<10)
	var read, nextSample int64
	for {
		n, err := r.Read(buf)
		h.Write(buf[:n])
		read += int64(n)
		if read >= nextSample {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			nextSample += 8 << 20
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != big.Hash || read != big.Size {
		t.Errorf("%d bytes, SHA-256 %s; want %d, %s", read, got, big.Size, big.Hash)
	}
	grew := int64(peak) - int64(base)
	t.Logf("%d MB read; heap in use grew by at most %d KB", read>>20, grew>>10)
	if grew > 48<<20 {
		t.Errorf("heap in use grew by %d MB while streaming %d MB", grew>>20, read>>20)
	}
}

// A drive's requests share its slots: downloads in flight count until
// they are read or closed.
func TestDriveConcurrencyLimit(t *testing.T) {
	var inFlight, peak atomic.Int64
	count := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isDownload(r) || strings.Contains(r.URL.Path, "/drives/") {
				n := inFlight.Add(1)
				defer inFlight.Add(-1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				time.Sleep(2 * time.Millisecond)
			}
			h.ServeHTTP(w, r)
		})
	}
	e := newDriveEnv(t, driveTenant, count, nil)
	c := e.client(func(cfg *Config) { cfg.MaxConcurrentPerDrive = 3 })
	driveID := e.user(0).DriveID
	files := driveFiles(t, c, driveID)
	var wg sync.WaitGroup
	errs := make(chan error, len(files))
	for _, it := range files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := hashFile(t, c, driveID, it); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if p := peak.Load(); p > 3 || p < 2 {
		t.Errorf("at most %d requests of the drive in flight, want 3", p)
	}
}

func TestDriveThrottling(t *testing.T) {
	var deltas atomic.Int64
	var slow atomic.Bool
	throttle := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case strings.Contains(r.URL.Path, "/delta") && deltas.Add(1) == 1:
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			case isDownload(r) && slow.Load():
				w.Header().Set("Retry-After", "300")
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = io.WriteString(w, `{"error":{"code":"serviceNotAvailable","message":"busy"}}`)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	e := newDriveEnv(t, driveTenant, throttle, nil)
	c := e.client(nil)
	driveID := e.user(0).DriveID
	files := driveFiles(t, c, driveID) // the first page waits out a short 429
	if c.Stats().Throttled != 1 {
		t.Errorf("%d throttled answers", c.Stats().Throttled)
	}
	slow.Store(true)
	var it DriveItem
	for _, f := range files {
		it = f
		break
	}
	_, err := c.OpenFile(context.Background(), driveID, it)
	var te *ThrottledError
	if !errors.As(err, &te) || te.RetryAfter != 300*time.Second {
		t.Errorf("long throttling: %v", err)
	}
}
