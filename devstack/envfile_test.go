package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestShellQuoteRoundTripsThroughSh(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	values := []string{
		"", "plain", "127.0.0.1:7233", "http://127.0.0.1:8233", "abc+/def==",
		"with space", "it's", `"double"`, "$HOME", "`id`", "$(id)", "a\\b",
		"line1\nline2", "tab\there", "semi;colon", "amp&", "pipe|", "glob*?[x]",
		"~tilde", "#hash", "ünïcode", "''", "'\\''",
	}
	var vars []envVar
	for i, v := range values {
		vars = append(vars, envVar{Key: "V" + string(rune('A'+i)), Value: v})
	}
	data, err := formatEnv("header line\nsecond", vars)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "x.env")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, v := range vars {
		// NUL-free values; printf %s prints them byte for byte.
		out, err := exec.Command(sh, "-c", `. "$1" && printf '%s' "$`+v.Key+`"`, "sh", path).Output()
		if err != nil {
			t.Fatalf("%s: %v\n%s", v.Key, err, data)
		}
		if string(out) != v.Value {
			t.Errorf("%s: sourced %q, want %q", v.Key, out, v.Value)
		}
	}
}

func TestFormatEnv(t *testing.T) {
	got, err := formatEnv("hello\nload me", []envVar{
		{"TEMPORAL_ADDRESS", "127.0.0.1:7233"},
		{"CORSO_CODEC_KEY", "ab+/cd=="},
		{"X", "a b"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "# hello\n# load me\nTEMPORAL_ADDRESS=127.0.0.1:7233\nCORSO_CODEC_KEY=ab+/cd==\nX='a b'\n"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	for _, bad := range [][]envVar{
		{{"1X", "v"}},
		{{"A-B", "v"}},
		{{"", "v"}},
		{{"A", "v"}, {"A", "w"}},
		{{"A", "nul\x00"}},
	} {
		if _, err := formatEnv("", bad); err == nil {
			t.Errorf("formatEnv(%q) succeeded, want error", bad)
		}
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	for _, content := range []string{"one", "two"} {
		if err := writeFileAtomic(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil || string(b) != content {
			t.Fatalf("read %q, %v; want %q", b, err, content)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temp files left behind: %v", entries)
	}
}

func TestLoadOrCreateSecret(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	calls := 0
	gen := func() (string, error) { calls++; return "s3cr3t", nil }
	for range 2 {
		v, err := loadOrCreateSecret(path, gen)
		if err != nil || v != "s3cr3t" {
			t.Fatalf("got %q, %v", v, err)
		}
	}
	if calls != 1 {
		t.Errorf("generator ran %d times, want 1", calls)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	empty := filepath.Join(t.TempDir(), "empty")
	_ = os.WriteFile(empty, []byte("\n"), 0o600)
	if _, err := loadOrCreateSecret(empty, gen); err == nil {
		t.Error("empty file accepted")
	}
}

func TestRandomToken(t *testing.T) {
	re := regexp.MustCompile(`^[A-Z0-9]+$`)
	a, _ := randomToken(40)()
	b, _ := randomToken(40)()
	if len(a) != 40 || !re.MatchString(a) || a == b {
		t.Errorf("tokens %q %q", a, b)
	}
	if s, _ := randomToken(20)(); len(s) != 20 {
		t.Errorf("len %d, want 20", len(s))
	}
}

func TestLockDataDir(t *testing.T) {
	dir := t.TempDir()
	l, err := lockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lockDataDir(dir); err == nil || !strings.Contains(err.Error(), "in use by another corso-dev") {
		t.Errorf("second lock: %v", err)
	}
	_ = l.Close()
	l2, err := lockDataDir(dir)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	_ = l2.Close()
}
