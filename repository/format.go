package repository

import (
	"github.com/kopia/kopia/repo"
	"github.com/kopia/kopia/repo/format"
)

// The repository format. Fixed for every corso repository.
const (
	Encryption = "AES256-GCM-HMAC-SHA256"
	Hash       = "BLAKE2B-256-128"
	Splitter   = "DYNAMIC-4M-BUZHASH"
	// Compressor is used for every object corso writes.
	Compressor = "zstd-fastest"
)

// Format describes how a repository stores data.
type Format struct {
	Encryption string
	Hash       string
	Splitter   string
	Version    int
}

func newRepositoryOptions() *repo.NewRepositoryOptions {
	return &repo.NewRepositoryOptions{
		BlockFormat: format.ContentFormat{
			Hash:       Hash,
			Encryption: Encryption,
		},
		ObjectFormat: format.ObjectFormat{Splitter: Splitter},
	}
}

func formatOf(r repo.DirectRepository) Format {
	cf := r.ContentReader().ContentFormat()
	return Format{
		Encryption: cf.GetEncryptionAlgorithm(),
		Hash:       cf.GetHashFunction(),
		Splitter:   r.ObjectFormat().Splitter,
		Version:    int(cf.GetCachedMutableParameters().Version),
	}
}
