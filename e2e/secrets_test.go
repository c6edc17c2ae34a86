package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	failurepb "go.temporal.io/api/failure/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/corso-temporal/corso/codec/secretscan"
	"github.com/corso-temporal/corso/graphsim"
)

// recordingTenant is a simulated tenant behind a handler that records
// every bearer token a client presents and every access token the token
// endpoints issue, so that a scan can look for them.
type recordingTenant struct {
	*graphsim.Server
	URL              string
	clientID, secret string

	mu     sync.Mutex
	tokens map[string]bool
}

func startRecordingTenant(t *testing.T, opts graphsim.TenantOptions, clientID, secret string) *recordingTenant {
	t.Helper()
	rt := &recordingTenant{clientID: clientID, secret: secret, tokens: map[string]bool{}}
	var sim *graphsim.Server
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
			rt.record(strings.TrimSpace(tok))
		}
		if !strings.Contains(r.URL.Path, "/oauth2/") && r.URL.Path != "/_sim/token" {
			sim.ServeHTTP(w, r)
			return
		}
		tee := &teeWriter{ResponseWriter: w}
		sim.ServeHTTP(tee, r)
		var answer struct {
			AccessToken string `json:"access_token"`
		}
		if json.Unmarshal(tee.body.Bytes(), &answer) == nil && answer.AccessToken != "" {
			rt.record(answer.AccessToken)
		}
	}))
	t.Cleanup(srv.Close)
	rt.URL = srv.URL
	sim = graphsim.New(graphsim.Options{Tenant: opts, BaseURL: srv.URL, ClientID: clientID, ClientSecret: secret})
	t.Cleanup(func() { _ = sim.Close() })
	rt.Server = sim
	return rt
}

func (rt *recordingTenant) record(tok string) {
	rt.mu.Lock()
	rt.tokens[tok] = true
	rt.mu.Unlock()
}

// Tokens lists every bearer token seen, sorted.
func (rt *recordingTenant) Tokens() []string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	out := make([]string, 0, len(rt.tokens))
	for tok := range rt.tokens {
		out = append(out, tok)
	}
	sort.Strings(out)
	return out
}

// cliEnv is what an admin exports to back up this tenant.
func (rt *recordingTenant) cliEnv(passphrase, secret string) map[string]string {
	return map[string]string{
		"CORSO_PASSPHRASE":    passphrase,
		"AZURE_TENANT_ID":     rt.TenantID(),
		"AZURE_CLIENT_ID":     rt.clientID,
		"AZURE_CLIENT_SECRET": secret,
	}
}

type teeWriter struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (w *teeWriter) Write(b []byte) (int, error) {
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

// tokenSecrets are the secrets a bearer token holds: the token, and its
// signature alone, which is what makes it usable (a log that cuts the
// token short may still hold it).
func tokenSecrets(tokens []string) []secretscan.Secret {
	var out []secretscan.Secret
	for i, tok := range tokens {
		out = append(out, secretscan.S(fmt.Sprintf("bearer token %d", i+1), tok))
		if parts := strings.Split(tok, "."); len(parts) == 3 && len(parts[2]) >= 16 {
			out = append(out, secretscan.S(fmt.Sprintf("bearer token %d's signature", i+1), parts[2]))
		}
	}
	return out
}

// storedPayload is one payload found in what the server stores, with the
// field path that holds it.
type storedPayload struct {
	where   string
	payload *commonpb.Payload
}

var payloadType = (&commonpb.Payload{}).ProtoReflect().Descriptor().FullName()

// payloadsIn finds every Payload anywhere in m: inputs, results,
// heartbeat details, memo, search attributes, headers, failure details.
func payloadsIn(m proto.Message, where string) []storedPayload {
	var out []storedPayload
	var walk func(protoreflect.Message, string)
	walk = func(msg protoreflect.Message, path string) {
		if msg.Descriptor().FullName() == payloadType {
			out = append(out, storedPayload{path, msg.Interface().(*commonpb.Payload)})
			return
		}
		msg.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			p := path + "." + string(fd.Name())
			switch {
			case fd.IsList() && fd.Message() != nil:
				for i := range v.List().Len() {
					walk(v.List().Get(i).Message(), p)
				}
			case fd.IsMap() && fd.MapValue().Message() != nil:
				v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
					walk(mv.Message(), p+"["+k.String()+"]")
					return true
				})
			case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
				walk(v.Message(), p)
			}
			return true
		})
	}
	walk(m.ProtoReflect(), where)
	return out
}

var failureType = (&failurepb.Failure{}).ProtoReflect().Descriptor().FullName()

// failuresIn finds every Failure anywhere in m, causes included.
func failuresIn(m proto.Message) []*failurepb.Failure {
	var out []*failurepb.Failure
	var walk func(protoreflect.Message)
	walk = func(msg protoreflect.Message) {
		if msg.Descriptor().FullName() == failureType {
			out = append(out, msg.Interface().(*failurepb.Failure))
		}
		msg.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.IsList() && fd.Message() != nil:
				for i := range v.List().Len() {
					walk(v.List().Get(i).Message())
				}
			case fd.IsMap() && fd.MapValue().Message() != nil:
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					walk(mv.Message())
					return true
				})
			case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
				walk(v.Message())
			}
			return true
		})
	}
	walk(m.ProtoReflect())
	return out
}

// payloadKind names what a payload at a field path is, for the coverage
// a scan reports.
func payloadKind(path string) string {
	for _, k := range []struct{ has, kind string }{
		{"heartbeat_details", "heartbeat details"},
		{"search_attributes", "search attributes"},
		{"memo", "memo"},
		{"failure", "failure details"},
		{"workflow_execution_started_event_attributes.input", "workflow input"},
		{"workflow_execution_completed_event_attributes.result", "workflow result"},
		{"start_child_workflow_execution_initiated_event_attributes.input", "child workflow input"},
		{"child_workflow_execution_completed_event_attributes.result", "child workflow result"},
		{"activity_task_scheduled_event_attributes.input", "activity input"},
		{"activity_task_completed_event_attributes.result", "activity result"},
		{"header", "header"},
		{"marker_recorded", "marker details"},
	} {
		if strings.Contains(path, k.has) {
			return k.kind
		}
	}
	return "other"
}

// decodeAllWithCodecServer decodes payloads as the Web UI does, through
// the codec server, in batches.
func decodeAllWithCodecServer(t *testing.T, payloads []*commonpb.Payload) []*commonpb.Payload {
	t.Helper()
	var out []*commonpb.Payload
	for len(payloads) > 0 {
		n := min(len(payloads), 200)
		out = append(out, decodePayloadsWithCodecServer(t, payloads[:n])...)
		payloads = payloads[n:]
	}
	return out
}

func decodePayloadsWithCodecServer(t *testing.T, payloads []*commonpb.Payload) []*commonpb.Payload {
	t.Helper()
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: payloads})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, dev.Env["CORSO_CODEC_ENDPOINT"]+"/decode", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Namespace", "default")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out commonpb.Payloads
	var raw json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	if err := protojson.Unmarshal(raw, &out); err != nil {
		t.Fatalf("codec server answer: %v: %s", err, raw)
	}
	return out.Payloads
}

// scanFile scans one file.
func scanFile(t *testing.T, sc *secretscan.Scanner, path string) []secretscan.Finding {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sc.Scan(b)
}

// cliRun is one finished CLI run of the suite, with the secrets its
// caller gave it.
type cliRun struct {
	args    []string
	secrets []secretscan.Secret
	r       result
}

// cliRuns are every CLI run of the suite, for the scan at its end.
var cliRuns struct {
	sync.Mutex
	list []cliRun
}

// recordCLI keeps a CLI run for the scan at the end of the suite. The
// passphrase and app secret it was given are secrets for its output when
// they are long enough to find and appear nowhere in its arguments (some
// tests use their prefix as passphrase; the output may name the prefix).
func recordCLI(env map[string]string, args []string, r result) {
	var secrets []secretscan.Secret
	for _, k := range []string{"CORSO_PASSPHRASE", "AZURE_CLIENT_SECRET", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		v := env[k]
		if len(v) < 12 || slices.ContainsFunc(args, func(a string) bool { return strings.Contains(a, v) && !isSecretFlagValue(args, a) }) {
			continue
		}
		secrets = append(secrets, secretscan.S(k, v))
	}
	cliRuns.Lock()
	cliRuns.list = append(cliRuns.list, cliRun{args: args, secrets: secrets, r: r})
	cliRuns.Unlock()
}

func isSecretFlagValue(args []string, a string) bool {
	i := slices.Index(args, a)
	return i > 0 && (args[i-1] == "--passphrase" || args[i-1] == "--aws-secret-access-key" || args[i-1] == "--aws-session-token")
}

// stackSecrets are the secrets every process of the suite shares: the
// dev stack's S3 keys and codec key and the shared tenant's app secret.
func stackSecrets() []secretscan.Secret {
	key, _ := base64.StdEncoding.DecodeString(dev.Env["CORSO_CODEC_KEY"])
	out := []secretscan.Secret{
		secretscan.S("S3 access key id", dev.Env["AWS_ACCESS_KEY_ID"]),
		secretscan.S("S3 secret key", dev.Env["AWS_SECRET_ACCESS_KEY"]),
		secretscan.S("codec key", dev.Env["CORSO_CODEC_KEY"]),
		{Name: "codec key bytes", Value: key},
	}
	if tenant != nil {
		out = append(out, secretscan.S("shared tenant's app secret", tenant.CLIEnv("")["AZURE_CLIENT_SECRET"]))
	}
	return out
}

// scanSuiteOutput looks for secrets in the output of every CLI run of the
// suite and in every process's log: the stack's secrets everywhere, and
// each run's own passphrase and app secret in its output.
func scanSuiteOutput() error {
	shared, err := secretscan.New(stackSecrets()...)
	if err != nil {
		return err
	}
	var problems []string
	cliRuns.Lock()
	runs := slices.Clone(cliRuns.list)
	cliRuns.Unlock()
	for _, run := range runs {
		sc := shared
		if len(run.secrets) > 0 {
			if sc, err = secretscan.New(append(stackSecrets(), run.secrets...)...); err != nil {
				return err
			}
		}
		for what, out := range map[string]string{"stdout": run.r.Stdout, "stderr": run.r.Stderr} {
			if fs := sc.Scan([]byte(out)); len(fs) > 0 {
				problems = append(problems, secretscan.Report(fmt.Sprintf("the %s of `corso %s`", what, strings.Join(run.args, " ")), fs))
			}
		}
	}
	for _, p := range dev.Logs() {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		b, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			return err
		}
		if fs := shared.Scan(b); len(fs) > 0 {
			problems = append(problems, secretscan.Report("log "+p, fs))
		}
	}
	// What the workers and the CLI keep on disk: every run's secrets.
	all := stackSecrets()
	for _, run := range runs {
		all = append(all, run.secrets...)
	}
	disk, err := secretscan.New(all...)
	if err != nil {
		return err
	}
	for _, dir := range append(dev.WorkerDirs(), dev.CLITempDir()) {
		found, err := scanTree(disk, dir)
		if err != nil {
			return err
		}
		problems = append(problems, found...)
	}
	// Every CLI run has ended, so none may have left a temporary folder.
	left, err := os.ReadDir(dev.CLITempDir())
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	for _, e := range left {
		problems = append(problems, "a CLI run left "+filepath.Join(dev.CLITempDir(), e.Name())+" behind")
	}
	if len(problems) > 0 {
		return fmt.Errorf("secrets found after %d CLI runs:\n  %s", len(runs), strings.Join(problems, "\n  "))
	}
	return nil
}

// scanTree scans every file under dir.
func scanTree(sc *secretscan.Scanner, dir string) ([]string, error) {
	var problems []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil || d.IsDir() || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if found := sc.Scan(b); len(found) > 0 {
			problems = append(problems, secretscan.Report("file "+p, found))
		}
		return nil
	})
	return problems, err
}
