package repository

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/kopia/kopia/repo"
	"github.com/kopia/kopia/repo/blob"
	"github.com/kopia/kopia/repo/content"
	"github.com/kopia/kopia/repo/format"
)

// ClientOptions identify this process to kopia and say where it keeps its
// per-process state. Every process writing to a repository needs its own
// Dir and a distinct Hostname.
type ClientOptions struct {
	Hostname string
	Username string
	// Dir holds kopia config files and caches, one folder per repository.
	Dir string
	// Cache sizes per repository; zero means kopia's defaults below.
	ContentCacheBytes  int64
	MetadataCacheBytes int64
	Logger             *slog.Logger
}

const (
	defaultContentCacheBytes  = 512 << 20
	defaultMetadataCacheBytes = 512 << 20
)

// Repository is an open repository handle shared by the activities of one
// process. Release it when done; the last release after a reconnect closes
// the replaced handle.
type Repository struct {
	repo.DirectRepository
	ID       string
	Location Location
	Format   Format

	entry *handle
}

// RefreshSince makes visible everything written to the repository before
// t, by any writer: t is a moment already past when it is called, such as
// the start of the request the caller works for. A refresh made for t, or
// for a later moment, began after t, so it serves; otherwise it refreshes
// the view this process shares. A request's resources then cost one
// refresh a worker, not one each: a refresh lists every index blob and
// reloads every backup record, work that grows with the repository. A
// zero t always refreshes.
func (r *Repository) RefreshSince(ctx context.Context, t time.Time) error {
	h := r.entry
	h.refreshing.Lock()
	defer h.refreshing.Unlock()
	if !t.IsZero() && !t.After(h.refreshedFor) {
		return nil
	}
	if err := r.Refresh(ctx); err != nil {
		return err
	}
	h.latest = nil
	if t.After(h.refreshedFor) {
		h.refreshedFor = t
	}
	return nil
}

// Release returns the handle to its pool.
func (r *Repository) Release(ctx context.Context) { r.entry.release(ctx) }

type handle struct {
	mu          sync.Mutex
	rep         repo.DirectRepository
	fingerprint string
	users       int
	replaced    bool
	log         *slog.Logger

	// formatBlob is the repository's format blob as it was when the
	// handle opened; a passphrase change rewrites it.
	formatBlob []byte

	// refreshing serialises RefreshSince and LatestBackup; refreshedFor
	// is the latest moment RefreshSince refreshed for, and latest the
	// newest completed backups LatestBackup read since, by tenant and
	// service, then by resource.
	refreshing   sync.Mutex
	refreshedFor time.Time
	latest       map[string]map[string]Backup
}

func (h *handle) release(ctx context.Context) {
	h.mu.Lock()
	h.users--
	closeNow := h.replaced && h.users == 0
	h.mu.Unlock()
	if closeNow {
		if err := h.rep.Close(ctx); err != nil {
			h.log.Warn("close replaced repository handle", "error", err)
		}
	}
}

// Connections keeps one open handle per repository for the whole process,
// so activities do not pay kopia's open (index load) each time.
type Connections struct {
	opts ClientOptions
	salt []byte

	mu      sync.Mutex
	handles map[string]*handle // by Location.key()
	opening map[string]*sync.Mutex
}

// NewConnections prepares the pool; nothing is opened until first use.
func NewConnections(opts ClientOptions) (*Connections, error) {
	if opts.Dir == "" || opts.Hostname == "" || opts.Username == "" {
		return nil, errors.New("repository client options need Dir, Hostname and Username")
	}
	if opts.ContentCacheBytes == 0 {
		opts.ContentCacheBytes = defaultContentCacheBytes
	}
	if opts.MetadataCacheBytes == 0 {
		opts.MetadataCacheBytes = defaultMetadataCacheBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create repository state dir: %w", err)
	}
	salt := make([]byte, 32)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	return &Connections{opts: opts, salt: salt, handles: map[string]*handle{}, opening: map[string]*sync.Mutex{}}, nil
}

// fingerprint identifies the secrets a handle was opened with without
// keeping them: an HMAC under a key that never leaves this process.
func (c *Connections) fingerprint(creds Credentials) string {
	m := hmac.New(sha256.New, c.salt)
	for _, s := range []string{creds.Passphrase, creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken} {
		m.Write([]byte(s))
		m.Write([]byte{0})
	}
	return hex.EncodeToString(m.Sum(nil))
}

// Identity is who kopia records as a handle's user and host.
type Identity struct {
	Username, Hostname string
}

// Open returns the process's handle for a repository, connecting first if
// needed. A handle is reused only for the same secrets, and only while the
// repository's format blob is the one it opened with, so a wrong or
// replaced passphrase is rejected even when another request already opened
// the repository.
func (c *Connections) Open(ctx context.Context, loc Location, creds Credentials) (*Repository, error) {
	return c.OpenAs(ctx, loc, creds, Identity{Username: c.opts.Username, Hostname: c.opts.Hostname})
}

// OpenAs is Open under another kopia identity, with a handle, config and
// cache of its own: maintenance runs as the repository's one maintenance
// owner on whichever worker it is scheduled.
func (c *Connections) OpenAs(ctx context.Context, loc Location, creds Credentials, id Identity) (*Repository, error) {
	return c.open(ctx, loc, creds, id, true)
}

// OpenUncached is Open with a handle of its own that caches no content:
// every read goes to storage, so verifying a backup reads what storage
// holds, not what this worker read before.
func (c *Connections) OpenUncached(ctx context.Context, loc Location, creds Credentials) (*Repository, error) {
	return c.open(ctx, loc, creds, Identity{Username: c.opts.Username, Hostname: c.opts.Hostname}, false)
}

func (c *Connections) open(ctx context.Context, loc Location, creds Credentials, id Identity, cached bool) (*Repository, error) {
	key := loc.key()
	if id != (Identity{Username: c.opts.Username, Hostname: c.opts.Hostname}) {
		sum := sha256.Sum256([]byte(id.Username + "@" + id.Hostname))
		key += "-" + hex.EncodeToString(sum[:6])
	}
	if !cached {
		key += "-uncached"
	}
	fp := c.fingerprint(creds)

	c.mu.Lock()
	lock, ok := c.opening[key]
	if !ok {
		lock = &sync.Mutex{}
		c.opening[key] = lock
	}
	c.mu.Unlock()

	// One open at a time per repository; others wait and reuse it.
	lock.Lock()
	defer lock.Unlock()

	c.mu.Lock()
	h := c.handles[key]
	c.mu.Unlock()
	if h != nil && h.fingerprint == fp && c.current(ctx, h) {
		return c.acquire(h, loc), nil
	}

	rep, formatBlob, err := c.connect(ctx, loc, creds, fp, key, id, cached)
	if err != nil {
		return nil, err
	}
	nh := &handle{rep: rep, fingerprint: fp, formatBlob: formatBlob, log: c.opts.Logger}
	c.mu.Lock()
	c.handles[key] = nh
	c.mu.Unlock()
	if h != nil {
		// New secrets opened it (a changed passphrase or rotated keys):
		// close the old handle once its last user is done.
		h.mu.Lock()
		h.replaced = true
		idle := h.users == 0
		h.mu.Unlock()
		if idle {
			_ = h.rep.Close(ctx)
		}
	}
	return c.acquire(nh, loc), nil
}

func (c *Connections) acquire(h *handle, loc Location) *Repository {
	h.mu.Lock()
	h.users++
	h.mu.Unlock()
	return &Repository{
		DirectRepository: h.rep,
		ID:               hex.EncodeToString(h.rep.UniqueID()),
		Location:         loc,
		Format:           formatOf(h.rep),
		entry:            h,
	}
}

// current reports whether the repository's format blob is still the one
// h opened with. When it cannot tell (storage trouble), the handle is kept
// and its own operations report the trouble.
func (c *Connections) current(ctx context.Context, h *handle) bool {
	b, err := readFormatBlob(ctx, h.rep.BlobReader())
	return err != nil || bytes.Equal(b, h.formatBlob)
}

func readFormatBlob(ctx context.Context, r blob.Reader) ([]byte, error) {
	var buf blobBuffer
	if err := r.GetBlob(ctx, format.KopiaRepositoryBlobID, 0, -1, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// blobBuffer receives a small blob.
type blobBuffer struct{ bytes.Buffer }

func (b *blobBuffer) Length() int { return b.Len() }

// connect writes this process's kopia config for the repository (its own
// file and cache, as kopia requires per writer) and opens it. It returns
// the format blob as read before opening, so a change after is noticed.
// Without cached, kopia keeps no cache directory: contents are read from
// storage every time.
func (c *Connections) connect(ctx context.Context, loc Location, creds Credentials, fp, key string, id Identity, cached bool) (repo.DirectRepository, []byte, error) {
	// kopia opens the storage again from the config it writes: the S3
	// keys reach it through the context, never through that file.
	ctx = withS3Credentials(ctx, creds)
	st, err := openStorage(ctx, loc, creds, false)
	if err != nil {
		return nil, nil, err
	}
	defer st.Close(ctx) //nolint:errcheck
	formatBlob, err := readFormatBlob(ctx, st)
	if err != nil && !errors.Is(err, blob.ErrBlobNotFound) {
		return nil, nil, classify(err, loc)
	}

	dir := filepath.Join(c.opts.Dir, key, fp[:12])
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("create repository state dir: %w", err)
	}
	cfg := filepath.Join(dir, "repository.config")
	_ = repo.Disconnect(ctx, cfg) // a leftover from a crashed run
	caching := content.CachingOptions{
		CacheDirectory:         filepath.Join(dir, "cache"),
		ContentCacheSizeBytes:  c.opts.ContentCacheBytes,
		MetadataCacheSizeBytes: c.opts.MetadataCacheBytes,
	}
	if !cached {
		caching = content.CachingOptions{}
	}
	err = repo.Connect(ctx, cfg, st, creds.Passphrase, &repo.ConnectOptions{
		ClientOptions: repo.ClientOptions{
			Hostname: id.Hostname,
			Username: id.Username,
		},
		CachingOptions: caching,
	})
	if err != nil {
		return nil, nil, classify(err, loc)
	}
	r, err := repo.Open(ctx, cfg, creds.Passphrase, &repo.Options{
		DisableRepositoryLog: true,
		// kopia's default is os.Exit: a worker must survive a broken
		// repository and fail only the activities using it.
		OnFatalError: func(err error) {
			c.opts.Logger.Error("repository fatal error", "repository", loc.String(), "error", err)
		},
	})
	if err != nil {
		return nil, nil, classify(err, loc)
	}
	dr, ok := r.(repo.DirectRepository)
	if !ok {
		_ = r.Close(ctx)
		return nil, nil, errors.New("repository does not support direct access")
	}
	return dr, formatBlob, nil
}

// Close closes every handle; call it when the process stops.
func (c *Connections) Close(ctx context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, h := range c.handles {
		_ = h.rep.Close(ctx)
		delete(c.handles, k)
	}
}
