package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionNamesModuleVersionRevisionAndToolchain(t *testing.T) {
	info := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/corso-temporal/corso", Version: "v1.4.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "3f2a9c1d04be77aa00112233445566778899aabb"}, {Key: "vcs.time", Value: "2026-11-30T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	if got, want := describe(info), "v1.4.0 (revision 3f2a9c1d04be, 2026-11-30T10:00:00Z, modified, go1.26.8)"; got != want {
		t.Errorf("describe = %q, want %q", got, want)
	}
	info = &debug.BuildInfo{GoVersion: "go1.26.8"}
	if got, want := describe(info), "(devel) (go1.26.8)"; got != want {
		t.Errorf("describe without version or VCS = %q, want %q", got, want)
	}
	if v := Version(); !strings.Contains(v, runtime.Version()) {
		t.Errorf("Version() = %q does not name the toolchain %s", v, runtime.Version())
	}
}
