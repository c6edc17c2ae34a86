package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/BurntSushi/toml"

	"github.com/corso-temporal/corso/workflows"
)

// repoConfig is what ~/.corso.toml keeps after init or connect: where the
// repository is, never a passphrase or key.
type repoConfig struct {
	Provider               string `toml:"provider"`
	Bucket                 string `toml:"bucket,omitempty"`
	Prefix                 string `toml:"prefix,omitempty"`
	Endpoint               string `toml:"endpoint,omitempty"`
	Region                 string `toml:"region,omitempty"`
	DisableTLS             bool   `toml:"disable_tls,omitempty"`
	DisableTLSVerification bool   `toml:"disable_tls_verification,omitempty"`
	Path                   string `toml:"path,omitempty"`
	RepoID                 string `toml:"repo_id"`
}

func configFromStorage(s workflows.Storage, repoID string) repoConfig {
	return repoConfig{
		Provider: string(s.Provider), Bucket: s.Bucket, Prefix: s.Prefix, Endpoint: s.Endpoint,
		Region: s.Region, DisableTLS: s.DisableTLS, DisableTLSVerification: s.DisableTLSVerification,
		Path: s.Path, RepoID: repoID,
	}
}

func (c repoConfig) storage() workflows.Storage {
	return workflows.Storage{
		Provider: workflows.StorageProvider(c.Provider), Bucket: c.Bucket, Prefix: c.Prefix,
		Endpoint: c.Endpoint, Region: c.Region, DisableTLS: c.DisableTLS,
		DisableTLSVerification: c.DisableTLSVerification, Path: c.Path,
	}
}

// configPath resolves --config-file, then CORSO_CONFIG_DIR, then $HOME.
func configPath(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if dir := os.Getenv("CORSO_CONFIG_DIR"); dir != "" {
		return filepath.Join(dir, ".corso.toml"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", errors.New("cannot find a home directory for .corso.toml: pass --config-file or set CORSO_CONFIG_DIR")
	}
	return filepath.Join(home, ".corso.toml"), nil
}

// writeConfig replaces the file atomically so an interrupted write never
// leaves half a config.
func writeConfig(path string, c repoConfig) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".corso-*.toml")
	if err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	defer os.Remove(tmp.Name()) //nolint:errcheck // gone after the rename
	if err := toml.NewEncoder(tmp).Encode(c); err != nil {
		tmp.Close()
		return fmt.Errorf("save config: %w", err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("save config: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	return nil
}

// readConfig loads the connection saved by init or connect.
func readConfig(path string) (repoConfig, error) {
	var c repoConfig
	_, err := toml.DecodeFile(path, &c)
	if errors.Is(err, fs.ErrNotExist) {
		return c, fmt.Errorf("no repository connected: %s does not exist; run `corso repo init` or `corso repo connect` first", path)
	}
	if err != nil {
		return c, fmt.Errorf("read %s: %w", path, err)
	}
	return c, nil
}
