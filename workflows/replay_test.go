package workflows

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/corso-temporal/corso/codec"
)

// Histories recorded from real runs on the dev stack (see e2e's replay test:
// CORSO_RECORD_HISTORIES=workflows/testdata/replay/<new folder>). Replaying them against today's workflow code
// catches changes that would break workflows already running: a failure
// here is a non-determinism error waiting to happen after a deploy. The key
// in the folder encrypted those runs only; their credentials are dummies.
func TestReplayRecordedHistories(t *testing.T) {
	// Each folder is one recording, with the codec key of that run.
	dirs, err := filepath.Glob(filepath.Join("testdata", "replay", "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no recorded histories in testdata/replay")
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) { replayRecording(t, dir) })
	}
}

func replayRecording(t *testing.T, dir string) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no histories in %s: %v", dir, err)
	}
	key, err := os.ReadFile(filepath.Join(dir, "codec-key"))
	if err != nil {
		t.Fatal(err)
	}
	dc, err := codec.NewDataConverter(strings.TrimSpace(string(key)))
	if err != nil {
		t.Fatal(err)
	}
	replayer, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: dc})
	if err != nil {
		t.Fatal(err)
	}
	for _, wf := range All() {
		replayer.RegisterWorkflow(wf)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			fh, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			h, err := client.HistoryFromJSON(fh, client.HistoryJSONOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := replayer.ReplayWorkflowHistory(nil, h); err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
		})
	}
}
