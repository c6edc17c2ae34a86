package activities

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/corso-temporal/corso/codec"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

func newRepositories(t testing.TB) (*Repositories, *codec.Sealer) {
	t.Helper()
	key, _ := codec.GenerateKey()
	sealer, err := codec.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	conns, err := repository.NewConnections(repository.ClientOptions{Hostname: "test", Username: "corso", Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return &Repositories{Connections: conns, Sealer: sealer,
		requestOf: func(context.Context) workflows.Request { return testRequest }}, sealer
}

// testRequest is the request the activities of these tests work for.
var testRequest = workflows.Request{WorkflowID: "corso-test-request", WorkflowType: "ExchangeBackupWorkflow"}

// sealForTest seals v for testRequest.
func sealForTest(t testing.TB, s *codec.Sealer, v any) codec.Sealed {
	t.Helper()
	sealed, err := s.Seal(v, codec.Binding{WorkflowID: testRequest.WorkflowID, Purpose: testRequest.Purpose(), Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return sealed
}

func ref(t testing.TB, s *codec.Sealer, path, pass string) workflows.RepoRef {
	sealed := sealForTest(t, s, workflows.RepoCredentials{Passphrase: pass})
	return workflows.RepoRef{Storage: workflows.Storage{Provider: workflows.ProviderFilesystem, Path: path}, Credentials: sealed}
}

func TestRepositoryActivitiesMapErrorsToNonRetryableTypes(t *testing.T) {
	a, sealer := newRepositories(t)
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	path := filepath.Join(t.TempDir(), "repo")

	if _, err := env.ExecuteActivity(a.ConnectRepository, workflows.RepoConnectInput{Repo: ref(t, sealer, path, "pw")}); !isType(err, workflows.ErrTypeRepositoryNotFound) {
		t.Fatalf("connect before init: %v", err)
	}
	val, err := env.ExecuteActivity(a.InitRepository, workflows.RepoInitInput{Repo: ref(t, sealer, path, "pw")})
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.RepoResult
	if err := val.Get(&res); err != nil || !res.Created || res.Format.Encryption != repository.Encryption {
		t.Fatalf("init result %+v %v", res, err)
	}
	if _, err := env.ExecuteActivity(a.ConnectRepository, workflows.RepoConnectInput{Repo: ref(t, sealer, path, "wrong")}); !isType(err, workflows.ErrTypeWrongPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}

	// Credentials sealed under another key: a misconfigured worker.
	_, other := newRepositories(t)
	if _, err := env.ExecuteActivity(a.ConnectRepository, workflows.RepoConnectInput{Repo: ref(t, other, path, "pw")}); !isType(err, workflows.ErrTypeCredentialsRefused) {
		t.Fatalf("foreign seal: %v", err)
	}

	// Credentials sealed for another request, or for another purpose.
	for what, b := range map[string]codec.Binding{
		"another request": {WorkflowID: "corso-other-request", Purpose: testRequest.Purpose(), Expires: time.Now().Add(time.Hour)},
		"another purpose": {WorkflowID: testRequest.WorkflowID, Purpose: workflows.PurposeDelete, Expires: time.Now().Add(time.Hour)},
	} {
		sealed, err := sealer.Seal(workflows.RepoCredentials{Passphrase: "pw"}, b)
		if err != nil {
			t.Fatal(err)
		}
		r := workflows.RepoRef{Storage: workflows.Storage{Provider: workflows.ProviderFilesystem, Path: path}, Credentials: sealed}
		if _, err := env.ExecuteActivity(a.ConnectRepository, workflows.RepoConnectInput{Repo: r}); !isType(err, workflows.ErrTypeCredentialsRefused) {
			t.Fatalf("credentials sealed for %s: %v", what, err)
		}
	}
}

func isType(err error, typ string) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == typ && appErr.NonRetryable()
}

// An S3 session token that expires while a backup writes is named, and
// not retried: only the admin can renew it.
func TestExpiredSessionTokenMidRunIsNamedAndFinal(t *testing.T) {
	mid := fmt.Errorf("write pack blob: %w", minio.ErrorResponse{Code: "ExpiredToken", Message: "The provided token has expired."})
	err := repositoryError(mid)
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	require.True(t, appErr.NonRetryable())
	require.Contains(t, appErr.Message(), "S3 session token expired")
	require.Equal(t, workflows.ErrTypeAccessDenied, appErr.Type())
}
