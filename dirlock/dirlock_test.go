package dirlock

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSecondHolderIsRefusedAndToldWho(t *testing.T) {
	dir := t.TempDir()
	l, err := Acquire(dir, "test.lock")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(dir, "test.lock")
	var held *HeldError
	if !errors.As(err, &held) {
		t.Fatalf("second Acquire: %v, want a HeldError", err)
	}
	if held.Dir != dir || held.PID != os.Getpid() {
		t.Errorf("HeldError %+v, want dir %s and pid %d", held, dir, os.Getpid())
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	l2, err := Acquire(dir, "test.lock")
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	_ = l2.Release()
}

// holdEnv makes the test binary a process that takes the lock and waits
// to be killed.
const holdEnv = "DIRLOCK_TEST_HOLD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(holdEnv); dir != "" {
		l, err := Acquire(dir, "test.lock")
		if err != nil {
			os.Exit(3)
		}
		os.Stdout.WriteString("held\n")
		time.Sleep(time.Minute)
		_ = l.Release()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestKilledHolderLeavesNoLock(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run", "^$")
	cmd.Env = append(os.Environ(), holdEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := out.Read(buf); err != nil || !strings.HasPrefix(string(buf), "held") {
		t.Fatalf("holder did not take the lock: %q %v", buf, err)
	}
	_, err = Acquire(dir, "test.lock")
	var held *HeldError
	if !errors.As(err, &held) || held.PID != cmd.Process.Pid {
		t.Fatalf("while the holder runs: %v, want held by pid %d", err, cmd.Process.Pid)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	l, err := Acquire(dir, "test.lock")
	if err != nil {
		t.Fatalf("after the holder was killed: %v", err)
	}
	_ = l.Release()
	if _, err := os.Stat(filepath.Join(dir, "test.lock")); err != nil {
		t.Fatal(err)
	}
}
