package activities

import (
	"context"

	"github.com/corso-temporal/corso/codec"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// Repositories holds what repository activities need: the process's open
// repository handles and the sealer that opens request credentials.
type Repositories struct {
	Connections *repository.Connections
	Sealer      *codec.Sealer

	// requestOf names the request an activity works for; nil means
	// workflows.RequestOfActivity. Tests set it.
	requestOf func(context.Context) workflows.Request
	// schedules proves which schedule started a request.
	schedules scheduleRuns
}

// InitRepository creates a repository (or confirms an existing one opens
// with the passphrase) and leaves it open on this worker.
func (a *Repositories) InitRepository(ctx context.Context, in workflows.RepoInitInput) (workflows.RepoResult, error) {
	loc, creds, err := a.resolve(ctx, in.Repo)
	if err != nil {
		return workflows.RepoResult{}, err
	}
	r, created, err := a.Connections.Initialize(ctx, loc, creds)
	if err != nil {
		return workflows.RepoResult{}, repositoryError(err)
	}
	defer r.Release(ctx)
	return result(in.Repo.Storage, r, created), nil
}

// ConnectRepository checks that a repository exists and opens with the
// passphrase, and leaves it open on this worker.
func (a *Repositories) ConnectRepository(ctx context.Context, in workflows.RepoConnectInput) (workflows.RepoResult, error) {
	loc, creds, err := a.resolve(ctx, in.Repo)
	if err != nil {
		return workflows.RepoResult{}, err
	}
	r, err := a.Connections.Open(ctx, loc, creds)
	if err != nil {
		return workflows.RepoResult{}, repositoryError(err)
	}
	defer r.Release(ctx)
	return result(in.Repo.Storage, r, false), nil
}

// resolve validates the location and opens the sealed credentials.
func (a *Repositories) resolve(ctx context.Context, ref workflows.RepoRef) (repository.Location, repository.Credentials, error) {
	if err := ref.Storage.Validate(); err != nil {
		return repository.Location{}, repository.Credentials{}, invalidInput(err.Error())
	}
	var rc workflows.RepoCredentials
	if err := a.openCredentials(ctx, ref.Credentials, "repository credentials", &rc); err != nil {
		return repository.Location{}, repository.Credentials{}, err
	}
	if rc.Passphrase == "" {
		return repository.Location{}, repository.Credentials{}, invalidInput("a passphrase is required")
	}
	s := ref.Storage
	return repository.Location{
			Provider:               repository.Provider(s.Provider),
			Bucket:                 s.Bucket,
			Prefix:                 s.Prefix,
			Endpoint:               s.Endpoint,
			Region:                 s.Region,
			DisableTLS:             s.DisableTLS,
			DisableTLSVerification: s.DisableTLSVerification,
			Path:                   s.Path,
		}, repository.Credentials{
			Passphrase:      rc.Passphrase,
			AccessKeyID:     rc.AWSAccessKeyID,
			SecretAccessKey: rc.AWSSecretAccessKey,
			SessionToken:    rc.AWSSessionToken,
		}, nil
}

func result(s workflows.Storage, r *repository.Repository, created bool) workflows.RepoResult {
	return workflows.RepoResult{
		RepositoryID: r.ID,
		Storage:      s,
		Created:      created,
		Format: workflows.RepoFormat{
			Encryption: r.Format.Encryption,
			Hash:       r.Format.Hash,
			Splitter:   r.Format.Splitter,
			Version:    r.Format.Version,
		},
	}
}

// open returns this worker's handle on the request's repository.
func (a *Repositories) open(ctx context.Context, ref workflows.RepoRef) (*repository.Repository, error) {
	loc, creds, err := a.resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	open := a.Connections.Open
	if ref.FromStorage {
		open = a.Connections.OpenUncached
	}
	r, err := open(ctx, loc, creds)
	if err != nil {
		return nil, repositoryError(err)
	}
	return r, nil
}
