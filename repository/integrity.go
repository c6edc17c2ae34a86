package repository

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/kopia/kopia/repo/blob"
	"github.com/kopia/kopia/repo/content"
	"github.com/kopia/kopia/repo/object"
)

// ErrUnreadable: stored data is missing or damaged. Its pack blob is gone
// from storage, its index entry is gone, or its bytes fail authenticated
// decryption (a flipped byte). Reading it again cannot help, so callers
// fail the items it holds, not the whole run. ErrMissing and ErrDamaged
// say which; both are ErrUnreadable.
var ErrUnreadable = errors.New("stored data is missing or damaged")

var (
	ErrMissing error = unreadableKind("stored data is missing")
	ErrDamaged error = unreadableKind("stored data is damaged")
)

// unreadableKind is a kind of ErrUnreadable with its own name.
type unreadableKind string

func (e unreadableKind) Error() string        { return string(e) }
func (e unreadableKind) Is(target error) bool { return target == ErrUnreadable }

// unreadable marks err as ErrUnreadable when it says the data is missing or
// damaged; other errors (storage unreachable, cancelled) come back as they
// are.
func unreadable(err error) error {
	if err == nil || errors.Is(err, ErrUnreadable) {
		return err
	}
	switch {
	case errors.Is(err, blob.ErrBlobNotFound):
		return fmt.Errorf("%w: a pack blob is missing from storage (%v)", ErrMissing, err)
	case errors.Is(err, content.ErrContentNotFound), errors.Is(err, object.ErrObjectNotFound):
		return fmt.Errorf("%w: not in the repository's index (%v)", ErrMissing, err)
	case damaged(err):
		return fmt.Errorf("%w: its bytes fail authenticated decryption (%v)", ErrDamaged, err)
	}
	return err
}

// damaged recognises kopia's failures to decrypt, authenticate or
// decompress a content, which it reports without a sentinel error.
func damaged(err error) bool {
	msg := err.Error()
	for _, s := range []string{"invalid checksum", "unable to decrypt", "error decompressing", "invalid indirect object"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// checkedReader reports damage found while an item streams as
// ErrUnreadable, as opening it does.
type checkedReader struct{ object.Reader }

func (c checkedReader) Read(p []byte) (int, error) {
	n, err := c.Reader.Read(p)
	if err != nil && err != io.EOF {
		err = unreadable(err)
	}
	return n, err
}

// Packs lists the pack blobs that hold an object's contents, after
// checking each content is in the index. An object missing from the index
// is ErrUnreadable.
func (r *Repository) Packs(ctx context.Context, id string) ([]blob.ID, error) {
	ranges, err := r.ContentRanges(ctx, id)
	if err != nil {
		return nil, err
	}
	var packs []blob.ID
	seen := map[blob.ID]bool{}
	for _, c := range ranges {
		if !seen[c.Pack] {
			seen[c.Pack] = true
			packs = append(packs, c.Pack)
		}
	}
	return packs, nil
}

// PackPresent checks a pack blob is in storage: the index can name
// contents whose pack was lost. A missing pack is ErrUnreadable.
func (r *Repository) PackPresent(ctx context.Context, id blob.ID) error {
	if _, err := r.BlobReader().GetMetadata(ctx, id); err != nil {
		return unreadable(ExpiredSessionToken(fmt.Errorf("pack blob %s: %w", id, err)))
	}
	return nil
}

// ContentRange is where one content of an object lies in storage.
type ContentRange struct {
	Pack   blob.ID
	Offset uint32
	Length uint32
}

// ContentRanges lists where an object's contents lie in their packs,
// after checking each content is in the index.
func (r *Repository) ContentRanges(ctx context.Context, id string) ([]ContentRange, error) {
	oid, err := object.ParseID(id)
	if err != nil {
		return nil, fmt.Errorf("invalid object id %q: %w", id, err)
	}
	cids, err := r.VerifyObject(ctx, oid)
	if err != nil {
		return nil, unreadable(fmt.Errorf("object %s: %w", id, err))
	}
	out := make([]ContentRange, 0, len(cids))
	for _, cid := range cids {
		info, err := r.ContentInfo(ctx, cid)
		if err != nil {
			return nil, unreadable(fmt.Errorf("content %s of object %s: %w", cid, id, err))
		}
		out = append(out, ContentRange{Pack: info.PackBlobID, Offset: info.PackOffset, Length: info.PackedLength})
	}
	return out, nil
}
