package repository

import (
	"context"
	"errors"

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

// s3Storage is kopia's S3 storage that describes itself by its Location.
type s3Storage struct {
	blob.Storage
	loc Location
}

func newS3Storage(ctx context.Context, loc Location, creds Credentials, isCreate bool) (blob.Storage, error) {
	st, err := s3.New(ctx, s3Options(loc, creds), isCreate)
	if err != nil {
		return nil, classify(err, loc)
	}
	return s3Storage{Storage: st, loc: loc}, nil
}

// ConnectionInfo is what kopia persists: where the repository is, never
// how to sign in to it.
func (s s3Storage) ConnectionInfo() blob.ConnectionInfo {
	loc := s.loc
	return blob.ConnectionInfo{Type: s3StorageType, Config: &loc}
}
