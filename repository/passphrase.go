package repository

import (
	"context"
	"errors"
	"fmt"

	"github.com/kopia/kopia/repo"
)

// ErrSamePassphrase: the new passphrase is the one the repository has.
var ErrSamePassphrase = errors.New("the new passphrase is the current one")

// ChangePassphrase re-encrypts the repository's format blob under a new
// passphrase (kopia's password change). Nothing else is rewritten: the
// keys that encrypt the data stay the same, so every backup still lists
// and restores. The old passphrase stops opening the repository, here and
// on every other process (Connections notices the changed format blob).
func (r *Repository) ChangePassphrase(ctx context.Context, current, next string) error {
	switch {
	case next == "":
		return errors.New("the new passphrase is empty")
	case next == current:
		return ErrSamePassphrase
	}
	ctx, w, err := r.NewDirectWriter(ctx, repo.WriteSessionOptions{Purpose: "change passphrase"})
	if err != nil {
		return fmt.Errorf("open session: %w", err)
	}
	defer w.Close(ctx) //nolint:errcheck
	if err := w.FormatManager().ChangePassword(ctx, next); err != nil {
		return fmt.Errorf("change passphrase of %s: %w", r.Location, err)
	}
	return nil
}
