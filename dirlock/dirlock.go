// Package dirlock gives one process at a time the use of a folder: an
// exclusive advisory lock (flock) on a file in it, holding the holder's
// process id. The kernel drops the lock when the process ends, however it
// ends, so a crashed holder never leaves the folder locked. It knows
// nothing about what the folder holds.
package dirlock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Lock is a held folder.
type Lock struct {
	f *os.File
}

// HeldError says another process holds the folder.
type HeldError struct {
	Dir string
	// PID is the holder's process id, 0 if it has not written it yet.
	PID int
}

func (e *HeldError) Error() string {
	if e.PID == 0 {
		return fmt.Sprintf("%s is in use by another process", e.Dir)
	}
	return fmt.Sprintf("%s is in use by process %d", e.Dir, e.PID)
}

// Acquire locks dir through the file name in it, created if missing, and
// records this process's id there. It returns a *HeldError if another
// process (or another Acquire in this one) holds the lock.
func Acquire(dir, name string) (*Lock, error) {
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &HeldError{Dir: dir, PID: holder(f)}
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &Lock{f: f}, nil
}

// holder reads the process id the lock's holder wrote.
func holder(f *os.File) int {
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b[:n])))
	if err != nil {
		return 0
	}
	return pid
}

// Release gives the folder up. The file stays: removing it would let a
// process that opened it just before lock a file nobody else can see.
func (l *Lock) Release() error {
	return l.f.Close()
}
