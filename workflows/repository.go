package workflows

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/corso-temporal/corso/codec"
)

// StorageProvider names where a repository keeps its blobs.
type StorageProvider string

const (
	ProviderS3         StorageProvider = "s3"
	ProviderFilesystem StorageProvider = "filesystem"
)

// Storage locates a repository. It holds no secrets, so it may be shown in
// the Web UI, stored in the CLI's config file and used in search attributes.
type Storage struct {
	Provider StorageProvider `json:"provider"`

	// S3
	Bucket                 string `json:"bucket,omitempty"`
	Prefix                 string `json:"prefix,omitempty"`
	Endpoint               string `json:"endpoint,omitempty"`
	Region                 string `json:"region,omitempty"`
	DisableTLS             bool   `json:"disableTLS,omitempty"`
	DisableTLSVerification bool   `json:"disableTLSVerification,omitempty"`

	// Filesystem
	Path string `json:"path,omitempty"`
}

// String names the repository for messages: s3://bucket/prefix or a path.
func (s Storage) String() string {
	switch s.Provider {
	case ProviderS3:
		return "s3://" + path.Join(s.Bucket, s.Prefix)
	case ProviderFilesystem:
		return "filesystem:" + s.Path
	}
	return string(s.Provider)
}

// Validate reports the first problem with a storage location as an error a
// user can act on.
func (s Storage) Validate() error {
	switch s.Provider {
	case ProviderS3:
		if s.Bucket == "" {
			return errors.New("--bucket is required")
		}
		if strings.ContainsAny(s.Bucket, "/ ") {
			return fmt.Errorf("invalid bucket name %q: give the bucket alone and put the path in --prefix", s.Bucket)
		}
		if strings.Contains(s.Endpoint, "://") {
			return fmt.Errorf("invalid --endpoint %q: give host[:port] without http:// or https:// (use --disable-tls for plain http)", s.Endpoint)
		}
		if strings.HasPrefix(s.Prefix, "/") || strings.Contains(s.Prefix, "//") || strings.Contains(s.Prefix, "..") {
			return fmt.Errorf("invalid --prefix %q: use a relative path like tenants/contoso", s.Prefix)
		}
		for _, seg := range strings.Split(s.Prefix, "/") {
			if seg == "kopia" {
				return fmt.Errorf("invalid --prefix %q: the folder name \"kopia\" is reserved for repository data", s.Prefix)
			}
		}
		if s.Path != "" {
			return errors.New("--path applies to filesystem repositories only")
		}
	case ProviderFilesystem:
		if s.Path == "" {
			return errors.New("--path is required")
		}
		if !path.IsAbs(s.Path) {
			return fmt.Errorf("--path %q must be absolute: workers may run in another directory", s.Path)
		}
	default:
		return fmt.Errorf("unknown storage provider %q (want s3 or filesystem)", s.Provider)
	}
	return nil
}

// RepoCredentials are the secrets a worker needs to open a repository. They
// travel only sealed (codec.Sealed), never in plaintext.
type RepoCredentials struct {
	Passphrase         string `json:"passphrase"`
	AWSAccessKeyID     string `json:"awsAccessKeyID,omitempty"`
	AWSSecretAccessKey string `json:"awsSecretAccessKey,omitempty"`
	AWSSessionToken    string `json:"awsSessionToken,omitempty"`
}

// RepoRef is how every request names its repository: where it is, plus the
// sealed credentials.
type RepoRef struct {
	Storage     Storage      `json:"storage"`
	Credentials codec.Sealed `json:"credentials"`
	// FromStorage has every read go to storage, past the worker's
	// caches: a restore drill proves what storage holds, not what a
	// worker read before.
	FromStorage bool `json:"fromStorage,omitempty"`
}

// RepoInitInput is the input of RepoInitWorkflow.
type RepoInitInput struct {
	Repo RepoRef `json:"repo"`
}

// RepoConnectInput is the input of RepoConnectWorkflow.
type RepoConnectInput struct {
	Repo RepoRef `json:"repo"`
}

// RepoFormat describes how a repository stores data.
type RepoFormat struct {
	Encryption string `json:"encryption"`
	Hash       string `json:"hash"`
	Splitter   string `json:"splitter"`
	Version    int    `json:"version"`
}

// RepoResult is what init and connect return.
type RepoResult struct {
	RepositoryID string  `json:"repositoryID"`
	Storage      Storage `json:"storage"`
	// Created is false when init found a repository that the passphrase
	// opens: init is idempotent, so a retried or repeated init succeeds.
	Created bool       `json:"created"`
	Format  RepoFormat `json:"format"`
}
