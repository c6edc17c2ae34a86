package repository

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kopia/kopia/repo/blob"
)

// stallingS3 answers reads of missing objects like S3 and, when stallPuts,
// never answers a write: it holds the connection until the client leaves.
func stallingS3(t *testing.T, stallGets, stallPuts bool) Location {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // then the server notices the client leave
		if (r.Method == http.MethodPut && stallPuts) || (r.Method != http.MethodPut && stallGets) {
			<-r.Context().Done()
			return
		}
		if r.Method == http.MethodPut {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>`))
	}))
	t.Cleanup(srv.Close)
	return Location{Provider: S3, Bucket: "bucket", Endpoint: strings.TrimPrefix(srv.URL, "http://"), DisableTLS: true, Region: "us-east-1"}
}

var testCreds = Credentials{AccessKeyID: "k", SecretAccessKey: "s"}

// S3 that stops answering fails an operation within its bound, naming the
// bound, as ErrUnreachable (retryable), instead of blocking for ever.
func TestStalledS3OperationIsBounded(t *testing.T) {
	const bound = 500 * time.Millisecond
	for _, tc := range []struct {
		name string
		run  func(context.Context, Location) error
		gets bool
	}{
		{"open", func(ctx context.Context, loc Location) error {
			_, err := openS3Storage(ctx, loc, testCreds, false, bound)
			return err
		}, true},
		{"write", func(ctx context.Context, loc Location) error {
			st, err := openS3Storage(ctx, loc, testCreds, false, bound)
			if err != nil {
				return err
			}
			return st.PutBlob(ctx, "p0123", blobBytes("data"), blob.PutOptions{})
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			loc := stallingS3(t, tc.gets, true)
			start := time.Now()
			err := tc.run(context.Background(), loc)
			took := time.Since(start)
			if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "did not finish within 500ms") {
				t.Fatalf("error %v, want ErrUnreachable naming the 500ms bound", err)
			}
			if took > 10*time.Second {
				t.Errorf("took %s to give up, bound %s", took, bound)
			}
		})
	}
}

// The bound is on each operation, not on the storage's life, and a caller
// that gives up is told so, not that S3 stalled.
func TestS3BoundIsPerOperation(t *testing.T) {
	loc := stallingS3(t, false, false)
	st, err := openS3Storage(context.Background(), loc, testCreds, false, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if err := st.PutBlob(context.Background(), "p0123", blobBytes("data"), blob.PutOptions{}); err != nil {
		t.Fatalf("a write after the bound's time passed: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := st.PutBlob(ctx, "p0123", blobBytes("data"), blob.PutOptions{}); !errors.Is(err, context.Canceled) || errors.Is(err, ErrUnreachable) {
		t.Fatalf("a write the caller cancelled: %v, want context.Canceled only", err)
	}
}

// blobBytes is a small blob's bytes as kopia hands them to storage.
type blobBytes string

func (b blobBytes) Length() int { return len(b) }

func (b blobBytes) WriteTo(w io.Writer) (int64, error) {
	n, err := io.WriteString(w, string(b))
	return int64(n), err
}

func (b blobBytes) Reader() io.ReadSeekCloser { return nopCloser{strings.NewReader(string(b))} }

type nopCloser struct{ io.ReadSeeker }

func (nopCloser) Close() error { return nil }
