package workflows

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/corso-temporal/corso/codec"
)

// Histories recorded from real runs on the dev stack (see e2e's replay
// tests: CORSO_RECORD_HISTORIES=workflows/testdata/replay/<new folder>).
// Replaying them against today's workflow code catches changes that would
// break workflows already running: a failure here is a non-determinism
// error waiting to happen after a deploy. The key in the folder encrypted
// those runs only; their credentials are dummies.
//
// A recording is named <workflow type>-<status>[-<path>].json (or
// .json.gz): the path says which branch of the workflow its history takes,
// and requiredPaths lists the branches that must each have one.

// recording is one recorded history.
type recording struct {
	dir, file string
	// workflowType and status as the file is named; path is what follows.
	workflowType, status, path string
	history                    *historypb.History
	dc                         converter.DataConverter
	pc                         *codec.PayloadCodec
	key                        string
	raw                        []byte
}

func (r recording) name() string { return filepath.Base(r.dir) + "/" + r.file }

// loadRecordings reads every recording in testdata/replay.
func loadRecordings(t *testing.T) []recording {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join("testdata", "replay", "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no recorded histories in testdata/replay")
	}
	var out []recording
	for _, dir := range dirs {
		keyBytes, err := os.ReadFile(filepath.Join(dir, "codec-key"))
		if err != nil {
			t.Fatal(err)
		}
		key := strings.TrimSpace(string(keyBytes))
		dc, err := codec.NewDataConverter(key)
		if err != nil {
			t.Fatal(err)
		}
		pc, err := codec.NewPayloadCodec(key)
		if err != nil {
			t.Fatal(err)
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range entries {
			base, ok := strings.CutSuffix(e.Name(), ".json")
			if !ok {
				base, ok = strings.CutSuffix(e.Name(), ".json.gz")
			}
			if !ok {
				continue
			}
			n++
			parts := strings.SplitN(base, "-", 3)
			if len(parts) < 2 {
				t.Fatalf("%s/%s: want <workflow type>-<status>[-<path>].json", dir, e.Name())
			}
			r := recording{dir: dir, file: e.Name(), workflowType: parts[0], status: parts[1], dc: dc, pc: pc, key: key}
			if len(parts) == 3 {
				r.path = parts[2]
			}
			r.raw, r.history = readHistory(t, filepath.Join(dir, e.Name()))
			out = append(out, r)
		}
		if n == 0 {
			t.Fatalf("no histories in %s", dir)
		}
	}
	return out
}

func readHistory(t *testing.T, file string) ([]byte, *historypb.History) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(file, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	h, err := client.HistoryFromJSON(bytes.NewReader(b), client.HistoryJSONOptions{})
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if len(h.GetEvents()) == 0 {
		t.Fatalf("%s: empty history", file)
	}
	return b, h
}

func TestReplayRecordedHistories(t *testing.T) {
	recs := loadRecordings(t)
	replayers := map[string]worker.WorkflowReplayer{}
	for _, r := range recs {
		t.Run(r.name(), func(t *testing.T) {
			replayer := replayers[r.dir]
			if replayer == nil {
				var err error
				replayer, err = worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: r.dc})
				if err != nil {
					t.Fatal(err)
				}
				for _, wf := range All() {
					replayer.RegisterWorkflow(wf)
				}
				replayers[r.dir] = replayer
			}
			if err := replayer.ReplayWorkflowHistory(nil, r.history); err != nil {
				t.Fatalf("replay %s: %v", r.name(), err)
			}
		})
	}
}

// workflowTypeName is the name a worker registers a workflow function under.
func workflowTypeName(wf any) string {
	name := runtime.FuncForPC(reflect.ValueOf(wf).Pointer()).Name()
	return name[strings.LastIndex(name, ".")+1:]
}

func startedOf(h *historypb.History) *historypb.WorkflowExecutionStartedEventAttributes {
	return h.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes()
}

// TestEveryWorkflowTypeIsRecorded fails when a workflow a worker registers
// has no recorded history to replay, and when a recording is not of the
// type its name says.
func TestEveryWorkflowTypeIsRecorded(t *testing.T) {
	recorded := map[string]int{}
	for _, r := range loadRecordings(t) {
		got := startedOf(r.history).GetWorkflowType().GetName()
		if got != r.workflowType {
			t.Errorf("%s is named %s but records a %s", r.name(), r.workflowType, got)
		}
		recorded[got]++
	}
	for _, wf := range All() {
		if name := workflowTypeName(wf); recorded[name] == 0 {
			t.Errorf("workflow %s is registered but has no recorded history in testdata/replay", name)
		}
	}
}

// requiredPaths are the branches a happy run never takes, each of which
// needs a recording named for it, whose history shows it was taken.
var requiredPaths = []struct {
	workflowType, path string
	// shows reports why the history does not take the path, or nil.
	shows func(r recording) error
}{
	{"ExchangeBackupWorkflow", "mailboxes-failing", func(r recording) error {
		failed, completed := countChildren(r.history)
		if failed < 2 || completed < 1 {
			return fmt.Errorf("%d mailboxes failed and %d completed, want 2+ and 1+", failed, completed)
		}
		return closedAs(r.history, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED)
	}},
	{"ExchangeBackupWorkflow", "fail-fast", func(r recording) error {
		var in ExchangeBackupInput
		if err := r.input(&in); err != nil || !in.FailFast {
			return fmt.Errorf("not a --fail-fast request (%v)", err)
		}
		if failed, _ := countChildren(r.history); failed < 1 {
			return fmt.Errorf("no mailbox failed")
		}
		return closedAs(r.history, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED)
	}},
	{"MailboxBackupWorkflow", "fail-fast", func(r recording) error {
		var in MailboxBackupInput
		if err := r.input(&in); err != nil || !in.FailFast {
			return fmt.Errorf("not a --fail-fast backup (%v)", err)
		}
		if n := countActivities(r.history, ActivityBackupCollection, enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED) +
			countActivities(r.history, ActivityBackupCollections, enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED); n < 1 {
			return fmt.Errorf("no collection failed")
		}
		return closedAs(r.history, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED)
	}},
	{"MailboxBackupWorkflow", "collection-groups", func(r recording) error {
		stored := 0
		for _, e := range r.history.GetEvents() {
			a := e.GetActivityTaskScheduledEventAttributes()
			if a == nil || a.GetActivityType().GetName() != ActivityBackupCollections {
				continue
			}
			var in BackupCollectionsInput
			if err := r.dc.FromPayloads(a.GetInput(), &in); err != nil {
				return err
			}
			if in.PlansID != "" && len(in.Plans) == 0 {
				stored++
			}
		}
		if stored < 2 {
			return fmt.Errorf("%d groups of collections backed up from stored plans, want 2+", stored)
		}
		return closedAs(r.history, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED)
	}},
	{"MailboxBackupWorkflow", "packed-collections", func(r recording) error {
		recorded := 0
		for _, e := range r.history.GetEvents() {
			a := e.GetActivityTaskScheduledEventAttributes()
			if a == nil {
				continue
			}
			switch a.GetActivityType().GetName() {
			case ActivityBackupCollection, ActivityCombineBackup:
				return fmt.Errorf("%s scheduled: not one activity for the mailbox", a.GetActivityType().GetName())
			case ActivityBackupCollections:
				var in BackupCollectionsInput
				if err := r.dc.FromPayloads(a.GetInput(), &in); err != nil {
					return err
				}
				if in.Record == nil || len(in.Plans) < 2 || slices.ContainsFunc(in.Plans, func(p CollectionPlan) bool { return p.Previous != nil }) {
					return fmt.Errorf("BackupCollections of %d plans, recording: %v; want the new collections of a first backup, recorded", len(in.Plans), in.Record != nil)
				}
				recorded++
			}
		}
		if recorded != 1 {
			return fmt.Errorf("%d activities recorded the backup, want 1", recorded)
		}
		return closedAs(r.history, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED)
	}},
	{"ResourceDrivesBackupWorkflow", "drive-batches", func(r recording) error {
		if n := countActivities(r.history, ActivityBackupDriveBatch, enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED); n < 2 {
			return fmt.Errorf("%d drive batches backed up, want 2+", n)
		}
		return closedAs(r.history, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED)
	}},
	{"DriveBackupWorkflow", "drive-fail-fast", func(r recording) error {
		var in DriveBackupInput
		if err := r.input(&in); err != nil || !in.FailFast {
			return fmt.Errorf("not a --fail-fast request (%v)", err)
		}
		if failed, _ := countChildren(r.history); failed < 1 {
			return fmt.Errorf("no drive backup failed")
		}
		return closedAs(r.history, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED)
	}},
	{"ResourceDrivesBackupWorkflow", "drive-fail-fast", func(r recording) error {
		if n := countActivities(r.history, ActivityBackupDriveBatch, enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED); n < 1 {
			return fmt.Errorf("no drive batch failed")
		}
		return closedAs(r.history, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED)
	}},
	{"ExchangeBackupWorkflow", "continue-as-new", func(r recording) error {
		if _, completed := countChildren(r.history); completed < 1 {
			return fmt.Errorf("no mailbox backed up before continuing")
		}
		return closedAs(r.history, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW)
	}},
	{"ExchangeBackupWorkflow", "continued", func(r recording) error {
		var in ExchangeBackupInput
		if err := r.input(&in); err != nil || in.Pages == nil || in.Pages.Next == 0 {
			return fmt.Errorf("not a request continued past its first page (%v)", err)
		}
		return closedAs(r.history, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED)
	}},
	{"DriveBudgetWorkflow", "continue-as-new", func(r recording) error {
		return closedAs(r.history, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW)
	}},
	{"DriveBudgetWorkflow", "continued", func(r recording) error {
		if startedOf(r.history).GetContinuedExecutionRunId() == "" {
			return fmt.Errorf("not a run continued from another")
		}
		return closedAs(r.history, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED)
	}},
}

// TestRequiredPathsAreRecorded fails when one of requiredPaths has no
// recording, or its recording does not take the path.
func TestRequiredPathsAreRecorded(t *testing.T) {
	recs := loadRecordings(t)
	for _, p := range requiredPaths {
		t.Run(p.workflowType+"-"+p.path, func(t *testing.T) {
			found := false
			for _, r := range recs {
				if r.workflowType != p.workflowType || r.path != p.path {
					continue
				}
				found = true
				if err := p.shows(r); err != nil {
					t.Errorf("%s does not take the %s path: %v", r.name(), p.path, err)
				}
			}
			if !found {
				t.Errorf("no recording of %s taking the %s path (%s-<status>-%s.json)", p.workflowType, p.path, p.workflowType, p.path)
			}
		})
	}
}

// knownSecrets are the dummy secrets the recorded runs used: the
// simulated tenants' app secrets and the CLI's default passphrase.
var knownSecrets = []string{"local-app-secret-5c1d", "graphsim-secret", "CHANGE-ME-THIS-IS-INSECURE"}

// secretFields name the secret parts of credentials (RepoCredentials,
// GraphCredentials): in a decoded payload they may appear only sealed.
var secretFields = []string{`"passphrase"`, `"awsSecretAccessKey"`, `"awsSessionToken"`, `"clientSecret"`}

// TestRecordingsHoldNoPlaintextSecret fails when a recording holds a
// secret in the clear: the codec key or a known dummy secret anywhere in
// the stored history or its decoded payloads (plaintext or base64), or
// credentials that were not sealed.
func TestRecordingsHoldNoPlaintextSecret(t *testing.T) {
	for _, r := range loadRecordings(t) {
		hay := [][]byte{r.raw}
		for _, sp := range payloadsOf(r.history.ProtoReflect()) {
			dec, err := r.pc.Decode([]*commonpb.Payload{sp})
			if err != nil {
				t.Fatalf("%s: decode a payload: %v", r.name(), err)
			}
			data := dec[0].GetData()
			hay = append(hay, data)
			var v any
			if json.Unmarshal(data, &v) == nil {
				hay = append(hay, sealedValues(v)...)
			}
		}
		for _, s := range append([]string{r.key}, knownSecrets...) {
			for _, form := range []string{s, base64.StdEncoding.EncodeToString([]byte(s)), base64.RawStdEncoding.EncodeToString([]byte(s))} {
				for _, b := range hay {
					if bytes.Contains(b, []byte(form)) {
						t.Errorf("%s holds a secret in the clear (%.4s…)", r.name(), s)
					}
				}
			}
		}
		for _, f := range secretFields {
			for _, b := range hay {
				if bytes.Contains(b, []byte(f)) {
					t.Errorf("%s holds credentials in the clear (%s)", r.name(), f)
				}
			}
		}
	}
}

// sealedValues are the bytes of every "credentials" value in a decoded
// payload: sealed, they show none of their fields.
func sealedValues(v any) [][]byte {
	var out [][]byte
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "credentials" {
				if b, err := base64.StdEncoding.DecodeString(s); err == nil {
					out = append(out, b)
				} else {
					out = append(out, []byte(s))
				}
				continue
			}
			out = append(out, sealedValues(x)...)
		}
	case []any:
		for _, x := range v {
			out = append(out, sealedValues(x)...)
		}
	}
	return out
}

var payloadDescriptor = (&commonpb.Payload{}).ProtoReflect().Descriptor().FullName()

// payloadsOf finds every payload in m: inputs, results, heartbeats, memo,
// search attributes, failure details.
func payloadsOf(m protoreflect.Message) []*commonpb.Payload {
	if m.Descriptor().FullName() == payloadDescriptor {
		return []*commonpb.Payload{m.Interface().(*commonpb.Payload)}
	}
	var out []*commonpb.Payload
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			for i := range v.List().Len() {
				out = append(out, payloadsOf(v.List().Get(i).Message())...)
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				out = append(out, payloadsOf(mv.Message())...)
				return true
			})
		case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
			out = append(out, payloadsOf(v.Message())...)
		}
		return true
	})
	return out
}

// input decodes the workflow's input.
func (r recording) input(v any) error {
	return r.dc.FromPayloads(startedOf(r.history).GetInput(), v)
}

// countChildren counts the child workflows that failed and completed.
func countChildren(h *historypb.History) (failed, completed int) {
	for _, e := range h.GetEvents() {
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED:
			failed++
		case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED:
			completed++
		}
	}
	return failed, completed
}

// countActivities counts the activities of one type that ended as given.
func countActivities(h *historypb.History, activityType string, ended enumspb.EventType) int {
	scheduled := map[int64]string{}
	n := 0
	for _, e := range h.GetEvents() {
		if a := e.GetActivityTaskScheduledEventAttributes(); a != nil {
			scheduled[e.GetEventId()] = a.GetActivityType().GetName()
		}
		if e.GetEventType() != ended {
			continue
		}
		var id int64
		switch ended {
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
			id = e.GetActivityTaskCompletedEventAttributes().GetScheduledEventId()
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED:
			id = e.GetActivityTaskFailedEventAttributes().GetScheduledEventId()
		}
		if scheduled[id] == activityType {
			n++
		}
	}
	return n
}

// closedAs checks how the history ends.
func closedAs(h *historypb.History, want enumspb.EventType) error {
	events := h.GetEvents()
	if got := events[len(events)-1].GetEventType(); got != want {
		return fmt.Errorf("the run ends with %s, want %s", got, want)
	}
	return nil
}
