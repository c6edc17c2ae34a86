package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestProgressETAFromTheMostPreciseTotalKnown(t *testing.T) {
	for _, tc := range []struct {
		name    string
		r       progressReport
		elapsed time.Duration
		want    time.Duration
		known   bool
	}{
		{"a quarter of the bytes in 10s leaves 30s", progressReport{Bytes: 25, BytesTotal: 100, Items: 90, ItemsTotal: 100}, 10 * time.Second, 30 * time.Second, true},
		{"half the items in 1m leaves 1m", progressReport{Items: 50, ItemsTotal: 100}, time.Minute, time.Minute, true},
		{"3 of 4 folders in 30s leaves 10s", progressReport{Done: 3, Total: 4, Items: 7}, 30 * time.Second, 10 * time.Second, true},
		{"all done leaves nothing", progressReport{Done: 4, Total: 4}, 30 * time.Second, 0, true},
		{"no total yet: no ETA", progressReport{Items: 500, Bytes: 1 << 20}, time.Minute, 0, false},
		{"nothing done yet: no ETA", progressReport{Total: 4}, time.Minute, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, known := tc.r.eta(tc.elapsed)
			if known != tc.known || got != tc.want {
				t.Errorf("eta = %v, %v; want %v, %v", got, known, tc.want, tc.known)
			}
		})
	}
}

func TestProgressLineShowsCountsRateTotalAndETA(t *testing.T) {
	r := progressReport{Stage: "restoring", Unit: "folders", Done: 1, Total: 4, Items: 200, ItemsTotal: 800, Bytes: 20 << 20}
	got := r.line(10 * time.Second)
	want := "restoring: 1/4 folders · 200 of 800 items · 20.0 MiB · 20 items/s, 2.0 MiB/s · 10s elapsed · ETA 30s"
	if got != want {
		t.Errorf("line =\n%q, want\n%q", got, want)
	}
	if got := (progressReport{Stage: "exporting"}).line(42 * time.Second); got != "exporting · 42s elapsed" {
		t.Errorf("a run that counts nothing shows %q", got)
	}
}

// syncBuffer is a terminal stand-in the watcher and the test both write.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Each draw rewrites the line in place, and stopping erases it, so the
// results printed next start on a clean line.
func TestProgressLineIsErasedBeforeResults(t *testing.T) {
	var term syncBuffer
	p := &progressLine{w: &term, width: 60, every: 5 * time.Millisecond}
	var polls atomic.Int64
	stop := p.watch(context.Background(), func(context.Context) (progressReport, bool) {
		n := polls.Add(1)
		return progressReport{Stage: "backing up " + strings.Repeat("x", 100), Unit: "backups", Done: int(n), Total: 10}, true
	})
	for polls.Load() < 3 {
		time.Sleep(time.Millisecond)
	}
	stop()
	n := polls.Load()
	time.Sleep(20 * time.Millisecond)
	if polls.Load() != n {
		t.Error("the line is still polled after stop")
	}
	term.Write([]byte("Backup ID  Status\n"))

	out := term.String()
	draws := strings.Split(out, clearLine)
	if draws[0] != "" {
		t.Errorf("a draw does not start by erasing the line: %q", out)
	}
	for _, d := range draws[1 : len(draws)-1] {
		if len([]rune(d)) > 59 {
			t.Errorf("a draw of %d columns wraps on a 60-column terminal: %q", len([]rune(d)), d)
		}
		if !strings.HasPrefix(d, "backing up") || !strings.HasSuffix(d, "…") {
			t.Errorf("draw %q", d)
		}
	}
	if last := draws[len(draws)-1]; last != "Backup ID  Status\n" {
		t.Errorf("results share the progress line: after the last erase comes %q", last)
	}
}
