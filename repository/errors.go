package repository

import (
	"errors"
	"fmt"
	"net"
	"slices"
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
	// ErrSessionTokenExpired: the temporary credentials' session token ran
	// out, at the start or in the middle of a run. It is an
	// ErrInvalidCredentials too, so nothing retries it.
	ErrSessionTokenExpired error = invalidCredentials("S3 session token expired")
)

// invalidCredentials is a kind of ErrInvalidCredentials with its own name.
type invalidCredentials string

func (e invalidCredentials) Error() string        { return string(e) }
func (e invalidCredentials) Is(target error) bool { return target == ErrInvalidCredentials }

// S3's answers to a request signed with an expired session token: the
// error codes, and the message kopia turns into blob.ErrInvalidCredentials
// (kopia means only that by it).
var sessionTokenExpiredCodes = []string{"ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired"}

func sessionTokenExpired(err error) bool {
	var me minio.ErrorResponse
	return errors.Is(err, blob.ErrInvalidCredentials) ||
		(errors.As(err, &me) && slices.Contains(sessionTokenExpiredCodes, me.Code)) ||
		strings.Contains(err.Error(), blob.InvalidCredentialsErrStr)
}

// ExpiredSessionToken names an error of a repository already open (a write or read
// mid-run) whose cause is an expired S3 session token, as classify does
// when a repository is opened; other errors come back as they are.
func ExpiredSessionToken(err error) error {
	if err == nil || errors.Is(err, ErrSessionTokenExpired) || !sessionTokenExpired(err) {
		return err
	}
	return fmt.Errorf("%w: renew AWS_SESSION_TOKEN/--aws-session-token and retry (%v)", ErrSessionTokenExpired, err)
}

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
	case sessionTokenExpired(err):
		return fmt.Errorf("%w: renew AWS_SESSION_TOKEN/--aws-session-token and retry (%s)", ErrSessionTokenExpired, loc)
	case errors.As(err, &me):
		switch me.Code {
		case "NoSuchBucket":
			return bucketNotFound(loc)
		case "AccessDenied", "AllAccessDisabled":
			return fmt.Errorf("%w to %s: check the AWS credentials; they need s3:PutObject, s3:GetObject, s3:ListBucket, s3:DeleteObject and s3:GetBucketLocation on the bucket", ErrAccessDenied, loc)
		case "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken":
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
