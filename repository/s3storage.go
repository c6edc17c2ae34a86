package repository

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/kopia/kopia/repo/blob"
	"github.com/kopia/kopia/repo/blob/s3"
)

// s3StorageType is the storage type kopia writes into a process's
// repository.config for an S3 repository. kopia's own "s3" type stores its
// options whole, access key, secret key and session token included, in that
// file on the worker's disk. This type stores the Location only; the keys
// come with each request, in memory, through the context kopia passes when
// it opens the storage again.
const s3StorageType = "corso-s3"

func init() {
	blob.AddSupportedStorage(s3StorageType, Location{}, func(ctx context.Context, loc *Location, isCreate bool) (blob.Storage, error) {
		creds, ok := ctx.Value(s3CredentialsKey{}).(Credentials)
		if !ok {
			return nil, errors.New("open S3 storage: the request carries no S3 credentials")
		}
		return newS3Storage(ctx, *loc, creds, isCreate)
	})
}

type s3CredentialsKey struct{}

// withS3Credentials hands the request's credentials to the storage kopia
// opens under ctx.
func withS3Credentials(ctx context.Context, creds Credentials) context.Context {
	return context.WithValue(ctx, s3CredentialsKey{}, creds)
}

// s3Storage is kopia's S3 storage that describes itself by its Location
// and bounds every operation in time.
type s3Storage struct {
	blob.Storage
	loc     Location
	timeout time.Duration
}

// DefaultS3OperationTimeout bounds one S3 operation, the retries of kopia
// (ten) and of minio-go (ten per kopia attempt) included. kopia's S3
// client has no timeout of its own (a clone of http.DefaultTransport, no
// ResponseHeaderTimeout), so an answer that stalls would block a write
// for ever while the activity's keep-alive heartbeats hide it. The largest
// blob is a pack of 20 MiB: ten minutes leaves 35 KiB/s for it, and covers
// the minute and a half the retries take to give up on a storage that is
// down. A longer outage fails the operation; the activity is retried.
const DefaultS3OperationTimeout = 10 * time.Minute

// testS3OperationTimeout names the environment variable that shortens
// DefaultS3OperationTimeout (a Go duration). For tests only: shorter than
// a pack's transfer, it fails healthy writes.
const testS3OperationTimeout = "CORSO_TEST_S3_OPERATION_TIMEOUT"

var s3OperationTimeout = sync.OnceValue(func() time.Duration {
	if d, err := time.ParseDuration(os.Getenv(testS3OperationTimeout)); err == nil && d > 0 {
		return d
	}
	return DefaultS3OperationTimeout
})

func newS3Storage(ctx context.Context, loc Location, creds Credentials, isCreate bool) (blob.Storage, error) {
	return openS3Storage(ctx, loc, creds, isCreate, s3OperationTimeout())
}

func openS3Storage(ctx context.Context, loc Location, creds Credentials, isCreate bool, timeout time.Duration) (blob.Storage, error) {
	s := s3Storage{loc: loc, timeout: timeout}
	err := s.within(ctx, "open", func(ctx context.Context) error {
		var err error
		s.Storage, err = s3.New(ctx, s3Options(loc, creds), isCreate)
		return err
	})
	if err != nil {
		return nil, classify(err, loc)
	}
	return s, nil
}

// within runs one operation under the time bound, and names the bound
// when it was what ended the operation.
func (s s3Storage) within(ctx context.Context, op string, f func(context.Context) error) error {
	bound, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	err := f(bound)
	if err == nil || ctx.Err() != nil || bound.Err() == nil {
		return err // done, or ended by the caller
	}
	return fmt.Errorf("%w: S3 %s at %s did not finish within %s (retried, then abandoned): %v", ErrUnreachable, op, s.loc, s.timeout, err)
}

func (s s3Storage) GetBlob(ctx context.Context, id blob.ID, offset, length int64, output blob.OutputBuffer) error {
	return s.within(ctx, "read of "+string(id), func(ctx context.Context) error {
		return s.Storage.GetBlob(ctx, id, offset, length, output)
	})
}

func (s s3Storage) GetMetadata(ctx context.Context, id blob.ID) (blob.Metadata, error) {
	var m blob.Metadata
	err := s.within(ctx, "metadata of "+string(id), func(ctx context.Context) error {
		var err error
		m, err = s.Storage.GetMetadata(ctx, id)
		return err
	})
	return m, err
}

func (s s3Storage) PutBlob(ctx context.Context, id blob.ID, data blob.Bytes, opts blob.PutOptions) error {
	return s.within(ctx, "write of "+string(id), func(ctx context.Context) error {
		return s.Storage.PutBlob(ctx, id, data, opts)
	})
}

func (s s3Storage) DeleteBlob(ctx context.Context, id blob.ID) error {
	return s.within(ctx, "delete of "+string(id), func(ctx context.Context) error {
		return s.Storage.DeleteBlob(ctx, id)
	})
}

// ListBlobs is bounded too: a listing reads pages of a thousand blobs,
// and what kopia does with each is quick.
func (s s3Storage) ListBlobs(ctx context.Context, prefix blob.ID, callback func(blob.Metadata) error) error {
	return s.within(ctx, "listing of "+string(prefix)+"*", func(ctx context.Context) error {
		return s.Storage.ListBlobs(ctx, prefix, callback)
	})
}

// ConnectionInfo is what kopia persists: where the repository is, never
// how to sign in to it.
func (s s3Storage) ConnectionInfo() blob.ConnectionInfo {
	loc := s.loc
	return blob.ConnectionInfo{Type: s3StorageType, Config: &loc}
}
