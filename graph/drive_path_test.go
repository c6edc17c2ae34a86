package graph

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// withoutParentPaths drops parentReference.path from the drive delta
// pages h serves while strip is set, counting the paths it dropped: what
// a drive that omits them (consumer OneDrive) would send.
func withoutParentPaths(strip *atomic.Bool, dropped *atomic.Int64) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strip.Load() || !strings.Contains(r.URL.Path, "/delta") || !strings.Contains(r.URL.Path, "/drives/") {
				h.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			body := rec.Body.Bytes()
			var page map[string]any
			if rec.Code == http.StatusOK && json.Unmarshal(body, &page) == nil {
				vals, _ := page["value"].([]any)
				for _, v := range vals {
					if pr, ok := v.(map[string]any)["parentReference"].(map[string]any); ok {
						if _, has := pr["path"]; has {
							delete(pr, "path")
							dropped.Add(1)
						}
					}
				}
				body, _ = json.Marshal(page)
			}
			maps.Copy(w.Header(), rec.Header())
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(rec.Code)
			_, _ = w.Write(bytes.Clone(body))
		})
	}
}

// The product tracks drive items by id: an enumeration of a drive whose
// delta names each item's parent path is the same as one of a drive whose
// delta names none.
func TestDriveDeltaIgnoresParentPaths(t *testing.T) {
	var strip atomic.Bool
	var dropped atomic.Int64
	e := newDriveEnv(t, driveTenant, withoutParentPaths(&strip, &dropped), nil)
	c := e.client(func(cfg *Config) { cfg.PageSize = 17 })
	for _, driveID := range []string{e.user(0).DriveID, e.info.Sites[0].DriveID} {
		with, _, _ := driveDelta(t, c, driveID, "")
		strip.Store(true)
		without, _, _ := driveDelta(t, c, driveID, "")
		strip.Store(false)
		for _, items := range [][]DriveItem{with, without} {
			for i := range items {
				items[i].DownloadURL = ""
			}
		}
		if !reflect.DeepEqual(with, without) {
			t.Errorf("drive %s: %d items with parent paths, %d without, and they differ", driveID, len(with), len(without))
		}
		tr := tree{}
		tr.apply(without)
		checkTree(t, tr, e.driveState(driveID))
	}
	if dropped.Load() == 0 {
		t.Fatal("no parentReference.path was dropped: the simulator sent none")
	}
}
