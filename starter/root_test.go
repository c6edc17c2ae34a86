package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/corso-temporal/corso/buildinfo"
)

func TestVersionFlagPrintsTheBuild(t *testing.T) {
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"--version"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "corso "+buildinfo.Version()+"\n"; got != want || !strings.Contains(got, runtime.Version()) {
		t.Errorf("corso --version printed %q, want %q naming %s", got, want, runtime.Version())
	}
}

func TestLogFlags(t *testing.T) {
	root := newRootCommand()
	root.SetArgs([]string{"--log-level", "loud", "codec-server"})
	if err := root.Execute(); err == nil || !strings.Contains(err.Error(), `invalid --log-level "loud"`) {
		t.Errorf("--log-level loud: %v", err)
	}

	path := filepath.Join(t.TempDir(), "corso.log")
	g := &globals{logLevel: "info", logFile: path}
	if err := g.startLogging(); err != nil {
		t.Fatal(err)
	}
	g.temporal.Logger.Debug("below the level")
	g.temporal.Logger.Info("dialled temporal")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "dialled temporal") || strings.Contains(string(b), "below the level") {
		t.Errorf("--log-file holds %q", b)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("--log-file mode %v, want 0600", st.Mode().Perm())
	}
	g = &globals{logLevel: "warn", logFile: filepath.Join(t.TempDir(), "missing", "corso.log")}
	if err := g.startLogging(); err == nil || !strings.Contains(err.Error(), "--log-file") {
		t.Errorf("--log-file in a missing folder: %v", err)
	}
}
