// Package buildinfo says which build of corso a binary is: the module
// version and the version-control revision the Go toolchain recorded in
// it. Every binary's --version prints it; it must not read anything but
// the binary's own build information.
package buildinfo

import (
	"runtime/debug"
	"strings"
)

// Version describes the running binary's build, e.g.
// "v1.4.0 (revision 3f2a9c1d04be, go1.26.8)" or
// "(devel) (revision 3f2a9c1d04be, modified, go1.26.8)".
func Version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown (built without module support)"
	}
	return describe(info)
}

func describe(info *debug.BuildInfo) string {
	version := info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	var details []string
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		details = append(details, "revision "+rev[:min(12, len(rev))])
	}
	if t := settings["vcs.time"]; t != "" {
		details = append(details, t)
	}
	if settings["vcs.modified"] == "true" {
		details = append(details, "modified")
	}
	details = append(details, info.GoVersion)
	return version + " (" + strings.Join(details, ", ") + ")"
}
