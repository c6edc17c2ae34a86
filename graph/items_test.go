package graph

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/corso-temporal/corso/graphsim"
)

// FetchItem hands the MIME over while it is still arriving: the server
// here sends half of it and waits until the test has read that half.
func TestFetchItemStreams(t *testing.T) {
	halfRead := make(chan struct{})
	stall := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasSuffix(r.URL.Path, "/$value") {
				h.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			body := rec.Body.Bytes()
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(rec.Code)
			_, _ = w.Write(body[:len(body)/2])
			w.(http.Flusher).Flush()
			select {
			case <-halfRead:
			case <-time.After(10 * time.Second):
			}
			_, _ = w.Write(body[len(body)/2:])
		})
	}
	e := newEnv(t, stall)
	c := e.client(nil)
	msg := inboxMessages(t, e, c)[0]
	var it graphsim.StateItem
	for _, x := range e.state(e.user(0).ID, "mail").Items {
		if x.ID == msg.ID {
			it = x
		}
	}

	start := time.Now()
	body, err := c.FetchItem(context.Background(), e.user(0).ID, Email, msg.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	first := make([]byte, it.Size/2)
	if _, err := io.ReadFull(body, first); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("first half took %v: the body was buffered", d)
	}
	close(halfRead)
	rest, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(bytes.Join([][]byte{first, rest}, nil))
	if hex.EncodeToString(sum[:]) != it.Hash {
		t.Fatal("content differs from state")
	}
}

// An event whose answer breaks off while it is read to be completed comes
// back as a reader that fails the same way, as a streamed answer would, so
// that the caller downloads it again; it is not an error of the item.
func TestEventAnswerBreakingOffIsAReadError(t *testing.T) {
	var cut atomic.Bool
	wrap := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.Contains(r.URL.RawQuery, "exceptionOccurrences") || !cut.CompareAndSwap(false, true) {
				h.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			body := rec.Body.Bytes()
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(rec.Code)
			_, _ = w.Write(body[:len(body)/2])
			panic(http.ErrAbortHandler) // the connection drops mid-body
		})
	}
	e := newEnv(t, wrap)
	c := e.client(nil)
	u := e.user(0).ID
	cs, err := c.Containers(context.Background(), u, Events)
	if err != nil {
		t.Fatal(err)
	}
	var id string
	for _, ct := range cs {
		changes, _, _ := enumerate(t, c, u, Events, ct.ID, "")
		if len(changes) > 0 {
			id = changes[0].ID
			break
		}
	}
	if id == "" {
		t.Fatal("no event")
	}
	r, err := c.FetchItem(context.Background(), u, Events, id)
	if err != nil {
		t.Fatalf("a broken-off answer failed the fetch itself: %v", err)
	}
	_, err = io.ReadAll(r)
	r.Close()
	if err == nil || !cut.Load() {
		t.Fatalf("read of a broken-off answer: %v (cut %v)", err, cut.Load())
	}
	again, err := c.FetchItem(context.Background(), u, Events, id)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(again); err != nil || !json.Valid(b) {
		t.Fatalf("second fetch: %v", err)
	}
	again.Close()
}
