package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestSecondWorkerOnADataDirIsRefused(t *testing.T) {
	dir := t.TempDir()
	first, err := lockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Release()
	_, err = lockDataDir(dir)
	if err == nil {
		t.Fatal("a second worker locked the same --data-dir")
	}
	msg := err.Error()
	if !strings.Contains(msg, dir) || !strings.Contains(msg, fmt.Sprintf("pid %d", os.Getpid())) || strings.Contains(msg, "\n") {
		t.Errorf("error %q does not name the dir and the holder's pid on one line", msg)
	}
}
