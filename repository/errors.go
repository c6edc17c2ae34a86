package repository

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/kopia/kopia/repo"
	"github.com/kopia/kopia/repo/blob"
	"github.com/minio/minio-go/v7"
)

// Errors a caller can act on. Each is wrapped with the location it concerns.
var (
	ErrBucketNotFound     = errors.New("bucket not found")
	ErrAccessDenied       = errors.New("access denied")
	ErrInvalidCredentials = errors.New("invalid storage credentials")
	ErrWrongPassphrase    = errors.New("wrong passphrase")
	ErrNotInitialized     = errors.New("no repository")
	ErrUnreachable        = errors.New("storage unreachable")
	ErrInvalidLocation    = errors.New("invalid repository location")
)

// classify maps an error from kopia or minio onto the errors above, keeping
// the original as the cause.
func classify(err error, loc Location) error {
	if err == nil {
		return nil
	}
	var me minio.ErrorResponse
	switch {
	case errors.Is(err, repo.ErrInvalidPassword):
		return fmt.Errorf("%w: the passphrase does not open the repository at %s", ErrWrongPassphrase, loc)
	case errors.Is(err, repo.ErrRepositoryNotInitialized):
		return fmt.Errorf("%w at %s: run `corso repo init` first, or check --bucket/--prefix/--path", ErrNotInitialized, loc)
	case errors.Is(err, blob.ErrInvalidCredentials):
		return fmt.Errorf("%w for %s: check the AWS access key, secret and session token", ErrInvalidCredentials, loc)
	case errors.As(err, &me):
		switch me.Code {
		case "NoSuchBucket":
			return bucketNotFound(loc)
		case "AccessDenied", "AllAccessDisabled":
			return fmt.Errorf("%w to %s: check the AWS credentials; they need s3:PutObject, s3:GetObject, s3:ListBucket, s3:DeleteObject and s3:GetBucketLocation on the bucket", ErrAccessDenied, loc)
		case "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken":
			return fmt.Errorf("%w for %s (%s): check the AWS access key, secret and session token", ErrInvalidCredentials, loc, me.Code)
		}
	}
	var netErr *net.OpError
	if errors.As(err, &netErr) || strings.Contains(err.Error(), "connection refused") {
		return fmt.Errorf("%w: %s: %v", ErrUnreachable, loc, err)
	}
	return fmt.Errorf("%s: %w", loc, err)
}

func bucketNotFound(loc Location) error {
	return fmt.Errorf("%w: bucket %q does not exist at %s; corso never creates buckets, create it first", ErrBucketNotFound, loc.Bucket, loc.endpoint())
}
