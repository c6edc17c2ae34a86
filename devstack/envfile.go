package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
)

// envVar is one KEY=value line of the env file.
type envVar struct {
	Key   string
	Value string
}

var envKeyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// safeUnquoted are the characters a POSIX shell reads literally outside
// quotes; values made only of them are written bare to keep the file readable
// and easy to parse by tools that are not a shell.
var safeUnquoted = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellQuote returns s as a POSIX shell word that evaluates to s.
func shellQuote(s string) string {
	if safeUnquoted.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// formatEnv renders vars as a file that `. FILE` in a POSIX shell turns into
// the same variables.
func formatEnv(header string, vars []envVar) ([]byte, error) {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(header, "\n"), "\n") {
		if line != "" {
			b.WriteString("# " + line + "\n")
		}
	}
	seen := make(map[string]bool, len(vars))
	for _, v := range vars {
		if !envKeyRE.MatchString(v.Key) {
			return nil, fmt.Errorf("invalid environment variable name %q", v.Key)
		}
		if seen[v.Key] {
			return nil, fmt.Errorf("environment variable %s is set twice", v.Key)
		}
		seen[v.Key] = true
		if strings.ContainsRune(v.Value, 0) {
			return nil, fmt.Errorf("value of %s contains a NUL byte", v.Key)
		}
		b.WriteString(v.Key + "=" + shellQuote(v.Value) + "\n")
	}
	return []byte(b.String()), nil
}

// writeFileAtomic writes data to path so that readers see either the old file
// or the complete new one, never a partial write.
func writeFileAtomic(path string, data []byte, perm fs.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() { _ = os.Remove(tmp) }() // no-op once renamed
	if err := f.Chmod(perm); err != nil {
		_ = f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// loadOrCreateSecret returns the trimmed content of path, creating the file
// (mode 0600) with gen's value first if it does not exist. Keys, credentials
// and IDs live in DIR this way so that a restart reuses them.
func loadOrCreateSecret(path string, gen func() (string, error)) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", fmt.Errorf("%s is empty; delete it to generate a new value", path)
		}
		return v, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	v, err := gen()
	if err != nil {
		return "", err
	}
	if err := writeFileAtomic(path, []byte(v+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("save %s: %w", path, err)
	}
	return v, nil
}

// randomToken returns a generator of n-character random strings of upper
// case letters and digits (crypto/rand, 5 bits a character), for credentials
// that must survive any quoting.
func randomToken(n int) func() (string, error) {
	return func() (string, error) {
		var b strings.Builder
		for b.Len() < n {
			b.WriteString(rand.Text())
		}
		return b.String()[:n], nil
	}
}

// lockDataDir takes an exclusive lock on DIR so two stacks never share one
// SQLite database or bucket directory. The lock ends with the process.
func lockDataDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, "corso-dev.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s is in use by another corso-dev; stop it or pick another --data-dir", dir)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}
