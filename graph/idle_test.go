package graph

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/corso-temporal/corso/graphsim"
)

// idleClient is a plain HTTP client whose answers are cut after idle.
func idleClient(idle time.Duration) *http.Client {
	base := http.DefaultTransport.(*http.Transport).Clone()
	return &http.Client{Transport: &idleTransport{base: base, idle: idle}}
}

// A body that stops sending fails the Read within the idle time, says so,
// and lets go of the connection.
func TestIdleBodyIsCut(t *testing.T) {
	left := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(bytes.Repeat([]byte("x"), 1000))
		w.(http.Flusher).Flush()
		<-r.Context().Done() // stalled until the client goes away
		close(left)
	}))
	defer srv.Close()
	const idle = 300 * time.Millisecond
	resp, err := idleClient(idle).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	start := time.Now()
	b, err := io.ReadAll(resp.Body)
	took := time.Since(start)
	var ie *IdleError
	if !errors.As(err, &ie) || len(b) != 1000 {
		t.Fatalf("read %d bytes, error %v; want 1000 and an IdleError", len(b), err)
	}
	if want := "Graph sent nothing for 300ms"; err.Error()[:len(want)] != want {
		t.Errorf("error %q does not start with %q", err, want)
	}
	if took < idle || took > idle+2*time.Second {
		t.Errorf("the stalled read failed after %s, want about %s", took, idle)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !transient(nil, err) {
		t.Errorf("%v is not a transient timeout: downloads would not retry it", err)
	}
	select {
	case <-left:
	case <-time.After(5 * time.Second):
		t.Fatal("the server still holds the stalled request: it was not cancelled")
	}
	if _, err := resp.Body.Read(make([]byte, 1)); !errors.As(err, &ie) {
		t.Errorf("a Read after the cut: %v, want the IdleError again", err)
	}
}

// Only time waiting for Graph counts: a consumer slower than the idle
// time between Reads of a fast answer is not cut.
func TestSlowConsumerIsNotIdle(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 1<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	const idle = 100 * time.Millisecond
	resp, err := idleClient(idle).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got []byte
	buf := make([]byte, 4<<10)
	for reads := 0; ; reads++ {
		n, err := resp.Body.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d bytes: %v", len(got), err)
		}
		if reads < 4 {
			time.Sleep(3 * idle) // a slow repository write
		}
	}
	if !bytes.Equal(got, body) {
		t.Fatalf("read %d bytes of %d", len(got), len(body))
	}
}

// A file whose download stalls is resumed where it stopped and arrives
// whole.
func TestOpenFileResumesAfterStalls(t *testing.T) {
	e := newDriveEnv(t, driveTenant, nil, nil)
	c := e.client(func(cfg *Config) { cfg.IdleTimeout = 200 * time.Millisecond })
	driveID := e.info.Sites[0].DriveID
	truth := stateHashes(e, driveID)
	files := driveFiles(t, c, driveID)
	e.control(http.MethodPut, "faults", graphsim.FaultOptions{Seed: 3, StallRate: 0.5, Classes: []string{"download"}}, nil)
	n := 0
	for id, it := range files {
		if it.Size < 64<<10 {
			continue
		}
		if n == 6 {
			break
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
	stalls := e.simStats().Faults["stall"]
	t.Logf("%d files, %d stalls", n, stalls)
	if stalls == 0 {
		t.Fatal("no download stalled; the test proves nothing")
	}
}
