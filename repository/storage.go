package repository

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/kopia/kopia/repo/blob"
	"github.com/kopia/kopia/repo/blob/filesystem"
	"github.com/kopia/kopia/repo/blob/s3"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// openStorage returns the blob storage for a location. For S3 it first
// checks that the bucket exists, since kopia would otherwise treat a
// missing bucket like an empty one. create allows a filesystem repository's
// folder to be made.
func openStorage(ctx context.Context, loc Location, creds Credentials, create bool) (blob.Storage, error) {
	switch loc.Provider {
	case S3:
		if err := checkBucket(ctx, loc, creds); err != nil {
			return nil, err
		}
		return newS3Storage(ctx, loc, creds, false)
	case Filesystem:
		dir := filepath.Join(loc.Path, DataDir)
		if !create {
			if _, err := os.Stat(dir); err != nil {
				return nil, fmt.Errorf("%w at %s: run `corso repo init filesystem` first, or check --path", ErrNotInitialized, loc)
			}
		} else if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("%w: create %s: %v", ErrInvalidLocation, dir, err)
		}
		st, err := filesystem.New(ctx, &filesystem.Options{Path: dir}, create)
		if err != nil {
			return nil, classify(err, loc)
		}
		return st, nil
	}
	return nil, fmt.Errorf("%w: unknown provider %q", ErrInvalidLocation, loc.Provider)
}

func s3Options(loc Location, creds Credentials) *s3.Options {
	return &s3.Options{
		BucketName:      loc.Bucket,
		Prefix:          loc.blobPrefix(),
		Endpoint:        loc.endpoint(),
		Region:          loc.Region,
		DoNotUseTLS:     loc.DisableTLS,
		DoNotVerifyTLS:  loc.DisableTLSVerification,
		AccessKeyID:     creds.AccessKeyID,
		SecretAccessKey: creds.SecretAccessKey,
		SessionToken:    creds.SessionToken,
	}
}

// checkBucket asks for the bucket with a HEAD request (s3:ListBucket), the
// same credential chain and transport kopia will use.
func checkBucket(ctx context.Context, loc Location, c Credentials) error {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if loc.DisableTLSVerification {
		transport.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the admin asked for it
	}
	cli, err := minio.New(loc.endpoint(), &minio.Options{
		Creds: credentials.NewChainCredentials([]credentials.Provider{
			&credentials.Static{Value: credentials.Value{
				AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey,
				SessionToken: c.SessionToken, SignerType: credentials.SignatureV4,
			}},
			&credentials.EnvAWS{},
		}),
		Secure:    !loc.DisableTLS,
		Region:    loc.Region,
		Transport: transport,
		// A missing bucket is not worth minio's ten retries.
		MaxRetries: 1,
	})
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidLocation, err)
	}
	var ok bool
	err = s3Storage{loc: loc, timeout: s3OperationTimeout()}.within(ctx, "bucket check", func(ctx context.Context) error {
		var exists error
		ok, exists = cli.BucketExists(ctx, loc.Bucket)
		return exists
	})
	if err != nil {
		return classify(err, loc)
	}
	if !ok {
		return bucketNotFound(loc)
	}
	return nil
}
