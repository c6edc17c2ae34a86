package main

import (
	"bytes"
	"runtime"
	"strings"
	"testing"

	"github.com/corso-temporal/corso/buildinfo"
)

func TestVersionFlagPrintsTheBuild(t *testing.T) {
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"--version"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "corso-dev "+buildinfo.Version()+"\n"; got != want || !strings.Contains(got, runtime.Version()) {
		t.Errorf("corso-dev --version printed %q, want %q naming %s", got, want, runtime.Version())
	}
}
