package main

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

func TestOutcomeFailsOnAMissedTarget(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fill     func(*report)
		err      error
		code     int
		mentions []string
	}{
		{name: "nothing checked", fill: func(r *report) { r.add("full backup", "10 items") }, code: 0},
		{name: "every target met", fill: func(r *report) {
			r.check("backup / raw ingest", "0.91", ">= 0.8", true)
			r.check("largest workflow history", "120 events", "<= 10000", true)
		}, code: 0},
		{name: "one target missed among met ones", fill: func(r *report) {
			r.check("backup / raw ingest", "0.91", ">= 0.8", true)
			r.check("drive backup / raw ingest", "0.42", ">= 0.8", false)
			r.add("worker peak RSS", "80 MiB")
		}, code: 1, mentions: []string{"1 target(s) NOT MET", "drive backup / raw ingest: 0.42, target >= 0.8"}},
		{name: "every target missed", fill: func(r *report) {
			r.check("4 workers / 1 worker", "1.10", ">= 3.5", false)
			r.check("incremental time / full time", "0.500", "<= 0.1", false)
		}, code: 1, mentions: []string{"2 target(s) NOT MET", "4 workers / 1 worker", "incremental time / full time"}},
		{name: "stopped by an error", fill: func(r *report) { r.check("backup / raw ingest", "0.91", ">= 0.8", true) },
			err: errors.New("raw ingest: the backups count 10 files but their state lists 9"), code: 1, mentions: []string{"bench: raw ingest"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r report
			quiet(t, func() { tc.fill(&r) })
			code, msg := outcome(&r, tc.err)
			if code != tc.code {
				t.Errorf("exit status %d, want %d (%q)", code, tc.code, msg)
			}
			if (code == 0) != (msg == "") {
				t.Errorf("exit status %d with message %q", code, msg)
			}
			for _, m := range tc.mentions {
				if !strings.Contains(msg, m) {
					t.Errorf("message %q does not mention %q", msg, m)
				}
			}
		})
	}
}

func TestReportPrintsEveryFigureWithItsMark(t *testing.T) {
	var r report
	quiet(t, func() {
		r.add("full backup", "10 items")
		r.check("backup / raw ingest", "0.91", ">= 0.8", true)
		r.check("drive backup / raw ingest", "0.42", ">= 0.8", false)
	})
	out := capture(t, r.print)
	for _, want := range []string{"full backup", "10 items", "backup / raw ingest", "met", "drive backup / raw ingest", "0.42", "NOT MET"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "NOT MET") != 1 {
		t.Errorf("want one NOT MET:\n%s", out)
	}
}

// capture returns what f writes to standard output.
func capture(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() { b, _ := io.ReadAll(r); done <- string(b) }()
	f()
	os.Stdout = old
	w.Close()
	return <-done
}

// quiet runs f with standard error discarded: check echoes each figure
// there as it is measured.
func quiet(t *testing.T, f func()) {
	t.Helper()
	old := os.Stderr
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	os.Stderr = devnull
	defer func() { os.Stderr = old }()
	f()
}
