package graph

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/m365"
)

// The quirky user's OneDrive holds files Microsoft 365 will not serve as
// listed (graphsim/quirks.go): a malware-flagged file, a OneNote notebook
// whose section answers 503 for ever, and an Office file SharePoint
// rewrites on download.

// quirkyDrive returns the quirky user's drive id and its items by name.
func quirkyDrive(t *testing.T, e *env, c *Client) (string, map[string]DriveItem, map[string]m365.Cause) {
	t.Helper()
	driveID := ""
	for _, u := range e.info.Users {
		if u.Special == "quirky" {
			driveID = u.DriveID
		}
	}
	if driveID == "" {
		t.Fatal("no quirky user with a drive")
	}
	byName := map[string]DriveItem{}
	flags := map[string]m365.Cause{}
	link := ""
	for {
		p, unreadable, err := c.DriveDeltaPageUnreadable(context.Background(), driveID, link)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range p.Items {
			byName[it.Name] = it
		}
		for id, cause := range unreadable {
			flags[id] = cause
		}
		if p.DeltaLink != "" {
			return driveID, byName, flags
		}
		link = p.NextLink
	}
}

// faultRecorder counts download requests by path and makes 503s quick to
// retry (graphsim's OneNote 503 names no Retry-After, which would cost the
// client's full inline backoff). With fail set, every download of a file
// answers 503.
type faultRecorder struct {
	mu       sync.Mutex
	requests []string
	fail503  atomic.Bool
	virus    atomic.Value // a download URL's query part answered 403 with X-Virus-Infected only
}

func (f *faultRecorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isDownload(r) || strings.HasSuffix(r.URL.Path, "/content") {
			f.mu.Lock()
			f.requests = append(f.requests, r.URL.String())
			f.mu.Unlock()
			if v, _ := f.virus.Load().(string); v != "" && isDownload(r) && strings.Contains(r.URL.RawQuery, v) {
				w.Header().Set("X-Virus-Infected", "true")
				w.WriteHeader(http.StatusForbidden)
				return
			}
			if f.fail503.Load() {
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
		}
		h.ServeHTTP(&quick503{ResponseWriter: w}, r)
	})
}

func (f *faultRecorder) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.requests
	f.requests = nil
	return out
}

// quick503 adds Retry-After: 0 to 503 answers.
type quick503 struct{ http.ResponseWriter }

func (w *quick503) WriteHeader(code int) {
	if code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "0")
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *quick503) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// readAll reads a file until its reader fails or ends, and returns the
// SHA-256 of the bytes read with the error (nil at io.EOF).
func readAll(t *testing.T, c *Client, driveID string, it DriveItem) (string, int64, error) {
	t.Helper()
	r, err := c.OpenFile(context.Background(), driveID, it)
	if err != nil {
		return "", 0, err
	}
	defer r.Close()
	h := sha256.New()
	n, err := io.Copy(h, r)
	return hex.EncodeToString(h.Sum(nil)), n, err
}

func TestDriveDeltaFlagsMalwareAndPackages(t *testing.T) {
	e := newDriveEnv(t, driveTenant, nil, nil)
	c := e.client(nil)
	_, items, flags := quirkyDrive(t, e, c)
	malware, notebook := items["invoice-viewer.exe"], items["Team Notebook"]
	if malware.ID == "" || notebook.ID == "" {
		t.Fatalf("quirky drive: %v", items)
	}
	// The malware facet marks the file, and only it.
	if len(flags) != 1 || flags[malware.ID] != m365.CauseMalware {
		t.Errorf("unreadable: %v, want %s malware", flags, malware.ID)
	}
	// A OneNote notebook is a package, without file or folder facet: the
	// folder of its sections, never a file to download.
	if !notebook.Folder || notebook.Package != "oneNote" || notebook.Size != 0 {
		t.Errorf("notebook: %+v", notebook)
	}
	for _, name := range []string{"General.one", "Open Notebook.onetoc2"} {
		if it := items[name]; it.ParentID != notebook.ID || it.Folder {
			t.Errorf("%s: %+v", name, it)
		}
	}
}

func TestOpenFileUnservable(t *testing.T) {
	rec := &faultRecorder{}
	e := newDriveEnv(t, driveTenant, rec.wrap, nil)
	c := e.client(nil)
	driveID, items, _ := quirkyDrive(t, e, c)

	t.Run("malware answers 403 malwareDetected: skipped at once", func(t *testing.T) {
		rec.take()
		_, _, err := readAll(t, c, driveID, items["invoice-viewer.exe"])
		if class, cause := m365.FaultOf(err); class != m365.ItemSkipped || cause != m365.CauseMalware || errors.Is(err, ErrAuth) {
			t.Fatalf("%v: %v %v", err, class, cause)
		}
		// Not retried, and no fresh URL asked for.
		if reqs := rec.take(); len(reqs) != 1 {
			t.Errorf("requests: %v", reqs)
		}
	})

	t.Run("X-Virus-Infected alone is malware too", func(t *testing.T) {
		it := items["Open Notebook.onetoc2"]
		u, err := url.Parse(it.DownloadURL)
		if err != nil || u.Query().Get("UniqueId") == "" {
			t.Fatalf("download URL %q", it.DownloadURL)
		}
		rec.virus.Store("UniqueId=" + u.Query().Get("UniqueId"))
		defer rec.virus.Store("")
		rec.take()
		_, _, err = readAll(t, c, driveID, it)
		if class, cause := m365.FaultOf(err); class != m365.ItemSkipped || cause != m365.CauseMalware {
			t.Fatalf("%v: %v %v", err, class, cause)
		}
		if reqs := rec.take(); len(reqs) != 1 {
			t.Errorf("requests: %v", reqs)
		}
	})

	t.Run("a OneNote section answering 503 is skipped", func(t *testing.T) {
		section := items["General.one"]
		_, _, err := readAll(t, c, driveID, section)
		var te *ThrottledError
		if class, cause := m365.FaultOf(err); class != m365.ItemSkipped || cause != m365.CauseOneNotePackage || !errors.As(err, &te) {
			t.Fatalf("%v: %v %v", err, class, cause)
		}
		// Known by its notebook, whatever its name.
		unnamed := section
		unnamed.Name = "General"
		if _, cause := m365.FaultOf(readErr(readAll(t, c, driveID, unnamed))); cause != m365.CauseOneNotePackage {
			t.Errorf("section without extension: %v", cause)
		}
		// The notebook's table of contents reads.
		if _, _, err := readAll(t, c, driveID, items["Open Notebook.onetoc2"]); err != nil {
			t.Errorf("table of contents: %v", err)
		}
	})

	t.Run("503 elsewhere stays throttling", func(t *testing.T) {
		rec.fail503.Store(true)
		defer rec.fail503.Store(false)
		other := items["General.one"]
		other.Name, other.ParentID = "General.docx", items["Quarterly Report.docx"].ParentID
		for _, it := range []DriveItem{items["Quarterly Report.docx"], other} {
			_, _, err := readAll(t, c, driveID, it)
			var te *ThrottledError
			if class, _ := m365.FaultOf(err); class != m365.Unclassified || !errors.As(err, &te) {
				t.Errorf("%s: %v (%v)", it.Name, err, class)
			}
		}
	})
}

func readErr(_ string, _ int64, err error) error { return err }

// SharePoint serves a rewritten Office file: every byte arrives, but
// neither size nor hash is the listing's. The bytes read are the file as
// served, and the error says drift, not a broken download.
func TestOpenFileSizeDrift(t *testing.T) {
	e := newDriveEnv(t, driveTenant, nil, nil)
	c := e.client(nil)
	driveID, items, _ := quirkyDrive(t, e, c)
	doc := items["Quarterly Report.docx"]
	var truth graphsim.StateItem
	for _, it := range e.driveState(driveID) {
		if it.ID == doc.ID {
			truth = it
		}
	}
	if truth.Size == doc.Size {
		t.Fatalf("no drift: listed %d, served %d", doc.Size, truth.Size)
	}
	sum, n, err := readAll(t, c, driveID, doc)
	if _, cause := m365.FaultOf(err); cause != m365.CauseSizeDrift || !errors.Is(err, m365.ErrContentMismatch) {
		t.Fatalf("drifted file: %v", err)
	}
	if sum != truth.Hash || n != truth.Size {
		t.Errorf("read %d bytes (%s), served %d (%s)", n, sum, truth.Size, truth.Hash)
	}
}

// A download cut short is resumed, or fails as a broken transfer: never
// as drift, whatever it delivered. Neither is an answer that ends early
// without saying its length.
func TestOpenFileTruncatedIsNoDrift(t *testing.T) {
	var cut, short atomic.Int64
	cut.Store(-1)
	short.Store(-1)
	truncate := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case cut.Load() >= 0 && isDownload(r):
				cw := &cuttingWriter{ResponseWriter: w, left: cut.Load()}
				defer func() {
					if cw.cut {
						panic(http.ErrAbortHandler)
					}
				}()
				if r.Header.Get("Range") != "" {
					cw.left = 0 // no byte beyond the first cut
				}
				h.ServeHTTP(cw, r)
			case short.Load() >= 0 && isDownload(r):
				h.ServeHTTP(&endingWriter{ResponseWriter: w, left: short.Load()}, r)
			default:
				h.ServeHTTP(w, r)
			}
		})
	}
	e := newDriveEnv(t, driveTenant, truncate, nil)
	c := e.client(nil)
	driveID := e.user(0).DriveID
	var it DriveItem
	for _, f := range driveFiles(t, c, driveID) {
		if f.Size > 100_000 && (it.ID == "" || f.ID < it.ID) {
			it = f
		}
	}
	cut.Store(50_000)
	_, n, err := readAll(t, c, driveID, it)
	if err == nil || n >= it.Size {
		t.Fatalf("cut download: %d bytes, %v", n, err)
	}
	if _, cause := m365.FaultOf(err); cause == m365.CauseSizeDrift {
		t.Errorf("a broken download is drift: %v", err)
	}
	cut.Store(-1)

	short.Store(50_000)
	_, n, err = readAll(t, c, driveID, it)
	if !errors.Is(err, m365.ErrContentMismatch) || n != 50_000 {
		t.Fatalf("short answer: %d bytes, %v", n, err)
	}
	if _, cause := m365.FaultOf(err); cause == m365.CauseSizeDrift {
		t.Errorf("an answer of unknown length that ends early is drift: %v", err)
	}
}

// endingWriter sends an answer without Content-Length (chunked) and ends
// it cleanly after left bytes.
type endingWriter struct {
	http.ResponseWriter
	left int64
}

func (w *endingWriter) WriteHeader(code int) {
	w.Header().Del("Content-Length")
	w.ResponseWriter.WriteHeader(code)
}

func (w *endingWriter) Write(p []byte) (int, error) {
	w.Header().Del("Content-Length")
	n := int64(len(p))
	if n > w.left {
		p = p[:w.left]
	}
	w.left -= int64(len(p))
	if _, err := w.ResponseWriter.Write(p); err != nil {
		return 0, err
	}
	return int(n), nil // the rest is silently dropped
}
