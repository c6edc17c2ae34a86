package repository

import (
	"context"
	"errors"

	"github.com/kopia/kopia/repo"
)

// Initialize creates a repository at loc, then opens it. If a repository
// already exists there and the passphrase opens it, that is success with
// created=false, so a retried or repeated init is harmless; with another
// passphrase it fails with ErrWrongPassphrase and writes nothing.
func (c *Connections) Initialize(ctx context.Context, loc Location, creds Credentials) (r *Repository, created bool, err error) {
	st, err := openStorage(ctx, loc, creds, true)
	if err != nil {
		return nil, false, err
	}
	err = repo.Initialize(ctx, st, newRepositoryOptions(), creds.Passphrase)
	_ = st.Close(ctx)
	switch {
	case err == nil:
		created = true
	case errors.Is(err, repo.ErrAlreadyInitialized):
	default:
		return nil, false, classify(err, loc)
	}
	r, err = c.Open(ctx, loc, creds)
	return r, created, err
}
