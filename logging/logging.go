// Package logging builds the logger of corso's binaries from their
// --log-level and --log-file flags, the same way for the CLI and the
// worker. It knows nothing of what is logged.
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"os"
)

// Level parses a --log-level value: debug, info, warn or error.
func Level(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("invalid --log-level %q (want debug, info, warn or error)", s)
	}
	return l, nil
}

// New returns a text logger at level writing to w.
func New(w io.Writer, level string) (*slog.Logger, error) {
	l, err := Level(level)
	if err != nil {
		return nil, err
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// OpenFile opens a --log-file for appending, readable by its owner only,
// and returns a logger at level writing to it.
func OpenFile(path, level string) (*slog.Logger, io.Closer, error) {
	if _, err := Level(level); err != nil {
		return nil, nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("--log-file: %w", err)
	}
	log, _ := New(f, level)
	return log, f, nil
}
