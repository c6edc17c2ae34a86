package repository

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/kopia/kopia/fs"
	"github.com/kopia/kopia/repo"
	"github.com/kopia/kopia/repo/content"
	"github.com/kopia/kopia/repo/object"
	"github.com/kopia/kopia/snapshot"
	"github.com/kopia/kopia/snapshot/snapshotfs"
)

// Session writes to a repository. What it writes becomes durable, and
// visible to other processes, at Flush; an activity flushes before it
// reports a checkpoint, so a checkpoint never names unflushed data.
type Session struct {
	r *Repository
	w repo.RepositoryWriter
}

// NewSession opens a write session. Close it when done.
func (r *Repository) NewSession(ctx context.Context, purpose string) (context.Context, *Session, error) {
	ctx, w, err := r.NewWriter(ctx, repo.WriteSessionOptions{Purpose: purpose})
	if err != nil {
		return ctx, nil, fmt.Errorf("open write session: %w", err)
	}
	return ctx, &Session{r: r, w: w}, nil
}

// Flush makes everything written so far durable.
func (s *Session) Flush(ctx context.Context) error {
	if err := s.w.Flush(ctx); err != nil {
		return fmt.Errorf("flush repository writes: %w", err)
	}
	return nil
}

// Close ends the session without flushing.
func (s *Session) Close(ctx context.Context) { _ = s.w.Close(ctx) }

// copyBuffers carry items into the repository: a buffer per item would be
// a good part of a backup's garbage.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// WriteItem stores one item's bytes, streaming, and returns its directory
// entry. Identical bytes are stored once (kopia deduplicates), so writing
// an item again after a retry costs no space.
func (s *Session) WriteItem(ctx context.Context, name string, modTime time.Time, body io.Reader) (*snapshot.DirEntry, error) {
	de, _, err := s.WriteItemSum(ctx, name, modTime, body)
	return de, err
}

// WriteItemSum is WriteItem that also returns the hex SHA-256 of the
// item's bytes, which details record so that `backup verify --read-data`
// can tell the bytes read back are the bytes backed up.
func (s *Session) WriteItemSum(ctx context.Context, name string, modTime time.Time, body io.Reader) (*snapshot.DirEntry, string, error) {
	ow := s.w.NewObjectWriter(ctx, object.WriterOptions{Description: "ITEM", Compressor: Compressor, MetadataCompressor: Compressor})
	defer ow.Close() //nolint:errcheck
	sum := sha256.New()
	buf := copyBuffers.Get().(*[]byte)
	n, err := io.CopyBuffer(io.MultiWriter(ow, sum), body, *buf)
	copyBuffers.Put(buf)
	if err != nil {
		return nil, "", err
	}
	oid, err := ow.Result()
	if err != nil {
		return nil, "", fmt.Errorf("store item %s: %w", name, err)
	}
	return ItemEntry(name, oid, n, modTime), hex.EncodeToString(sum.Sum(nil)), nil
}

// ItemEntry is the directory entry of a stored item, for items kept from
// an earlier backup under their object id.
func ItemEntry(name string, oid object.ID, size int64, modTime time.Time) *snapshot.DirEntry {
	return &snapshot.DirEntry{
		Name:        name,
		Type:        snapshot.EntryTypeFile,
		Permissions: 0o600,
		FileSize:    size,
		ModTime:     fs.UTCTimestampFromTime(modTime),
		ObjectID:    oid,
	}
}

// ParseObjectID reads an object id written by ID.String.
func ParseObjectID(id string) (object.ID, error) { return object.ParseID(id) }

// WriteDir stores a directory of entries and returns the entry that names
// it. relPath is only used in error messages and logs.
func (s *Session) WriteDir(ctx context.Context, relPath, name string, entries []*snapshot.DirEntry) (*snapshot.DirEntry, error) {
	var b snapshotfs.DirManifestBuilder
	var newest fs.UTCTimestamp
	for _, e := range entries {
		b.AddEntry(e)
		if e.ModTime > newest {
			newest = e.ModTime
		}
	}
	dm := b.Build(newest, "")
	oid, err := snapshotfs.WriteDirManifest(ctx, s.w, relPath, dm, Compressor)
	if err != nil {
		return nil, fmt.Errorf("write directory %s: %w", relPath, err)
	}
	return &snapshot.DirEntry{
		Name:        name,
		Type:        snapshot.EntryTypeDirectory,
		Permissions: 0o700,
		ModTime:     newest,
		ObjectID:    oid,
		DirSummary:  dm.Summary,
	}, nil
}

// metadataPrefix puts records (indexes, details, states, checkpoints) in
// kopia's metadata packs, as directories are, apart from item data: a lost
// or damaged data pack then loses items, never the records that name
// them, and kopia caches records apart.
const metadataPrefix content.IDPrefix = "k"

// WriteJSON stores v as a compressed JSON object.
func (s *Session) WriteJSON(ctx context.Context, description string, v any) (object.ID, error) {
	ow := s.w.NewObjectWriter(ctx, object.WriterOptions{Description: description, Prefix: metadataPrefix, Compressor: Compressor, MetadataCompressor: Compressor})
	defer ow.Close() //nolint:errcheck
	if err := json.NewEncoder(ow).Encode(v); err != nil {
		return object.EmptyID, fmt.Errorf("write %s: %w", description, err)
	}
	oid, err := ow.Result()
	if err != nil {
		return object.EmptyID, fmt.Errorf("write %s: %w", description, err)
	}
	return oid, nil
}

// ReadJSON loads an object written by WriteJSON. Reads see objects other
// processes flushed, refreshing the indexes when one is not yet known.
func (r *Repository) ReadJSON(ctx context.Context, id string, v any) error {
	rd, err := r.openObject(ctx, id)
	if err != nil {
		return err
	}
	defer rd.Close()
	if err := json.NewDecoder(checkedReader{rd}).Decode(v); err != nil {
		return unreadable(fmt.Errorf("read object %s: %w", id, err))
	}
	return nil
}

// ReadDir lists the entries of a directory written by WriteDir.
func (r *Repository) ReadDir(ctx context.Context, id string) ([]*snapshot.DirEntry, error) {
	var dm snapshot.DirManifest
	if err := r.ReadJSON(ctx, id, &dm); err != nil {
		return nil, err
	}
	return dm.Entries, nil
}

// OpenItem streams a stored item. Data missing or damaged, found when
// opening or while reading, is ErrUnreadable.
func (r *Repository) OpenItem(ctx context.Context, id string) (io.ReadCloser, error) {
	rd, err := r.openObject(ctx, id)
	if err != nil {
		return nil, err
	}
	return checkedReader{rd}, nil
}

// openObject opens an object; data missing or damaged is ErrUnreadable.
func (r *Repository) openObject(ctx context.Context, id string) (object.Reader, error) {
	oid, err := object.ParseID(id)
	if err != nil {
		return nil, fmt.Errorf("invalid object id %q: %w", id, err)
	}
	rd, err := r.OpenObject(ctx, oid)
	if errors.Is(err, object.ErrObjectNotFound) || errors.Is(err, content.ErrContentNotFound) {
		// Another process may have written it since this handle last read
		// the indexes: refresh once, only when it matters.
		if rerr := r.Refresh(ctx); rerr != nil {
			return nil, fmt.Errorf("refresh indexes: %w", rerr)
		}
		rd, err = r.OpenObject(ctx, oid)
	}
	if err != nil {
		return nil, unreadable(fmt.Errorf("open object %s: %w", id, err))
	}
	return rd, nil
}
