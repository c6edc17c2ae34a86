package repository

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kopia/kopia/repo/blob"
	"github.com/kopia/kopia/repo/blob/s3"
	"github.com/minio/minio-go/v7"
	pkgerrors "github.com/pkg/errors"
)

// s3Answering runs kopia's S3 storage against a server that answers every
// request with status and an S3 error document of code and message, and
// returns the error kopia hands back from opening it.
func s3Answering(t *testing.T, status int, code, message string) error {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>` +
			`<Error><Code>` + code + `</Code><Message>` + message + `</Message><RequestId>1</RequestId><HostId>h</HostId></Error>`))
	}))
	t.Cleanup(srv.Close)
	// minio-go retries ExpiredToken, hoping for refreshed credentials.
	retries := minio.MaxRetry
	minio.MaxRetry = 1
	t.Cleanup(func() { minio.MaxRetry = retries })
	_, err := s3.New(context.Background(), &s3.Options{
		BucketName: "corso-bucket", Endpoint: strings.TrimPrefix(srv.URL, "http://"), DoNotUseTLS: true, Region: "us-east-1",
		AccessKeyID: "AKIA", SecretAccessKey: "secret", SessionToken: "expired-token",
	}, false)
	if err == nil {
		t.Fatal("kopia opened a storage whose every answer is an error")
	}
	return err
}

func TestExpiredSessionTokenIsNamed(t *testing.T) {
	loc := Location{Provider: S3, Bucket: "corso-bucket", Prefix: "p"}
	expired := minio.ErrorResponse{StatusCode: 400, Code: "ExpiredToken", Message: "The provided token has expired."}
	for name, err := range map[string]error{
		// What kopia's S3 storage returns, as it returns it.
		"kopia, ExpiredToken":         s3Answering(t, 400, "ExpiredToken", "The provided token has expired."),
		"kopia, 403 ExpiredToken":     s3Answering(t, 403, "ExpiredToken", "The provided token has expired."),
		"kopia, TokenRefreshRequired": s3Answering(t, 400, "TokenRefreshRequired", "The provided token must be refreshed."),
		// minio's error as kopia's operations wrap it.
		"wrapped ErrorResponse":  pkgerrors.Wrap(pkgerrors.Wrap(expired, "GetObject"), "error getting blob"),
		"kopia's sentinel":       pkgerrors.Wrap(blob.ErrInvalidCredentials, "unable to read format blob"),
		"STS-style code":         pkgerrors.Wrap(minio.ErrorResponse{StatusCode: 400, Code: "ExpiredTokenException", Message: "x"}, "PutObject"),
		"refresh required, bare": minio.ErrorResponse{StatusCode: 400, Code: "TokenRefreshRequired"},
	} {
		got := classify(err, loc)
		if !errors.Is(got, ErrSessionTokenExpired) {
			t.Errorf("%s: %v is not ErrSessionTokenExpired (from %v)", name, got, err)
			continue
		}
		if !errors.Is(got, ErrInvalidCredentials) {
			t.Errorf("%s: not an ErrInvalidCredentials, so it would be retried", name)
		}
		want := "S3 session token expired: renew AWS_SESSION_TOKEN/--aws-session-token and retry (s3://corso-bucket/p)"
		if got.Error() != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	// Other refusals keep their own errors.
	for name, err := range map[string]error{
		"wrong key":      minio.ErrorResponse{StatusCode: 403, Code: "InvalidAccessKeyId"},
		"wrong secret":   minio.ErrorResponse{StatusCode: 403, Code: "SignatureDoesNotMatch"},
		"access denied":  minio.ErrorResponse{StatusCode: 403, Code: "AccessDenied"},
		"kopia, 403 key": s3Answering(t, 403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."),
	} {
		if got := classify(err, loc); errors.Is(got, ErrSessionTokenExpired) {
			t.Errorf("%s: classified as an expired token: %v", name, got)
		}
	}
}
