package main

import (
	"context"
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// openTerminal opens a pseudo-terminal and returns its terminal end.
func openTerminal(t *testing.T) *os.File {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tty.Close() })
	return tty
}

// The line shows on a terminal only, and never with --json or
// --hide-progress.
func TestProgressOnlyOnATerminalWithoutJSON(t *testing.T) {
	tty := openTerminal(t)
	if newProgressLine(&globals{}, tty) == nil {
		t.Error("no progress line on a terminal")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for _, tc := range []struct {
		g      *globals
		stderr *os.File
	}{{&globals{}, w}, {&globals{json: true}, tty}, {&globals{hideProgress: true}, tty}} {
		p := newProgressLine(tc.g, tc.stderr)
		if p != nil {
			t.Fatalf("a progress line on %s with json=%v hide-progress=%v", tc.stderr.Name(), tc.g.json, tc.g.hideProgress)
		}
		polled := false
		p.watch(context.Background(), func(context.Context) (progressReport, bool) { polled = true; return progressReport{}, true })()
		if polled {
			t.Error("polled without a line")
		}
	}
}
