package repository

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path"
	"strings"
)

// Provider names a storage backend.
type Provider string

const (
	S3         Provider = "s3"
	Filesystem Provider = "filesystem"
)

// DataDir is the folder under a repository's prefix (or path) that holds
// kopia's blobs. Keeping them one level down means a repository nested
// under another one's prefix never shows up in the outer repository's blob
// listings, where maintenance could mistake it for garbage.
const DataDir = "kopia"

// defaultS3Endpoint is used when no --endpoint is given.
const defaultS3Endpoint = "s3.amazonaws.com"

// Location says where a repository lives. It holds no secrets.
type Location struct {
	Provider               Provider `json:"provider"`
	Bucket                 string   `json:"bucket,omitempty"`
	Prefix                 string   `json:"prefix,omitempty"`
	Endpoint               string   `json:"endpoint,omitempty"`
	Region                 string   `json:"region,omitempty"`
	DisableTLS             bool     `json:"disableTLS,omitempty"`
	DisableTLSVerification bool     `json:"disableTLSVerification,omitempty"`
	Path                   string   `json:"path,omitempty"`
}

// Credentials are the secrets needed to open a repository. Empty AWS keys
// mean "use this process's own AWS credentials" (environment or role).
type Credentials struct {
	Passphrase      string
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
}

func (l Location) String() string {
	if l.Provider == Filesystem {
		return "filesystem:" + l.Path
	}
	return "s3://" + path.Join(l.Bucket, l.Prefix)
}

func (l Location) endpoint() string {
	if l.Endpoint == "" {
		return defaultS3Endpoint
	}
	return l.Endpoint
}

// blobPrefix is the object-key prefix of the repository's blobs in S3.
func (l Location) blobPrefix() string {
	p := strings.Trim(l.Prefix, "/")
	if p == "" {
		return DataDir + "/"
	}
	return p + "/" + DataDir + "/"
}

// key identifies the location on this process's disk (config and cache).
func (l Location) key() string {
	b, _ := json.Marshal(l)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}
