package main

import (
	"errors"
	"fmt"

	"github.com/corso-temporal/corso/dirlock"
)

// lockDataDir makes the worker the only one using dir: kopia allows one
// writer per config and cache folder, and a second worker would disconnect
// the first one's repositories under it. The lock ends with the process.
func lockDataDir(dir string) (*dirlock.Lock, error) {
	l, err := dirlock.Acquire(dir, "corso-worker.lock")
	var held *dirlock.HeldError
	switch {
	case errors.As(err, &held) && held.PID != 0:
		return nil, fmt.Errorf("--data-dir %s is in use by corso-worker pid %d; give each worker its own --data-dir", dir, held.PID)
	case errors.As(err, &held):
		return nil, fmt.Errorf("--data-dir %s is in use by another corso-worker; give each worker its own --data-dir", dir)
	case err != nil:
		return nil, err
	}
	return l, nil
}
