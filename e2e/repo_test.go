package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// admin is one admin's shell: a config file and a passphrase.
type admin struct {
	config     string
	passphrase string
}

func newAdmin(t *testing.T, passphrase string) admin {
	return admin{config: filepath.Join(t.TempDir(), "corso.toml"), passphrase: passphrase}
}

func (a admin) run(t *testing.T, args ...string) result {
	t.Helper()
	return corso(t, map[string]string{"CORSO_PASSPHRASE": a.passphrase}, append(args, "--config-file", a.config)...)
}

func s3Flags(prefix string) []string {
	return []string{"--bucket", bucket, "--prefix", prefix, "--endpoint", dev.Env["CORSO_S3_ENDPOINT"], "--disable-tls"}
}

func repoCmd(op, prefix string, extra ...string) []string {
	return append(append([]string{"repo", op, "s3"}, s3Flags(prefix)...), extra...)
}

type repoJSON struct {
	Result struct {
		RepositoryID string `json:"repositoryID"`
		Created      bool   `json:"created"`
		Format       struct {
			Encryption, Hash, Splitter string
		} `json:"format"`
	} `json:"result"`
	Workflow struct {
		WorkflowID string `json:"workflowID"`
	} `json:"workflow"`
}

func mustSucceed(t *testing.T, r result) {
	t.Helper()
	if r.Code != 0 {
		t.Fatalf("corso failed (exit %d):\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
}

// mustFail checks for a one-line error naming what went wrong, answered
// quickly rather than after a retry storm.
func mustFail(t *testing.T, r result, within time.Duration, wants ...string) {
	t.Helper()
	if r.Code == 0 {
		t.Fatalf("corso succeeded, want failure:\n%s", r.Stdout)
	}
	msg := strings.TrimSpace(r.Stderr)
	if strings.Count(msg, "\n") > 0 {
		t.Errorf("error is not one line:\n%s", msg)
	}
	for _, w := range wants {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not mention %q", msg, w)
		}
	}
	if r.Took > within {
		t.Errorf("took %s to fail, want under %s", r.Took, within)
	}
}

func parseRepo(t *testing.T, r result) repoJSON {
	t.Helper()
	mustSucceed(t, r)
	var out repoJSON
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		t.Fatalf("parse --json output: %v\n%s", err, r.Stdout)
	}
	return out
}

func TestRepoInitAndConnectS3(t *testing.T) {
	a := newAdmin(t, "correct horse battery staple")
	prefix := "init-connect"

	first := parseRepo(t, a.run(t, repoCmd("init", prefix, "--json")...))
	if !first.Result.Created || first.Result.RepositoryID == "" {
		t.Fatalf("init result %+v", first.Result)
	}
	f := first.Result.Format
	if f.Encryption != "AES256-GCM-HMAC-SHA256" || f.Hash != "BLAKE2B-256-128" || f.Splitter != "DYNAMIC-4M-BUZHASH" {
		t.Fatalf("format %+v", f)
	}
	if len(objects(t, bucket, prefix+"/kopia/")) == 0 {
		t.Fatal("init wrote nothing under the prefix")
	}

	// The config keeps the location, not the secrets.
	cfg, err := os.ReadFile(a.config)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{a.passphrase, dev.Env["AWS_SECRET_ACCESS_KEY"]} {
		if strings.Contains(string(cfg), secret) {
			t.Fatalf("config file holds a secret:\n%s", cfg)
		}
	}
	if !strings.Contains(string(cfg), first.Result.RepositoryID) || !strings.Contains(string(cfg), prefix) {
		t.Fatalf("config lacks the connection:\n%s", cfg)
	}

	// init again with the same passphrase: success, same repository.
	again := parseRepo(t, a.run(t, repoCmd("init", prefix, "--json")...))
	if again.Result.Created || again.Result.RepositoryID != first.Result.RepositoryID {
		t.Fatalf("second init %+v, first id %s", again.Result, first.Result.RepositoryID)
	}

	// connect from another admin's machine with the passphrase.
	b := newAdmin(t, a.passphrase)
	conn := parseRepo(t, b.run(t, repoCmd("connect", prefix, "--json")...))
	if conn.Result.RepositoryID != first.Result.RepositoryID {
		t.Fatalf("connect id %s, want %s", conn.Result.RepositoryID, first.Result.RepositoryID)
	}
	text := b.run(t, repoCmd("connect", prefix)...)
	mustSucceed(t, text)
	if !strings.Contains(text.Stdout, "Connected to the repository at s3://corso-test/"+prefix) {
		t.Fatalf("text output:\n%s", text.Stdout)
	}
}

func TestRepoInitOverAnotherPassphraseFailsAndChangesNothing(t *testing.T) {
	prefix := "other-passphrase"
	mustSucceed(t, newAdmin(t, "first").run(t, repoCmd("init", prefix)...))
	before := objects(t, bucket, prefix+"/")

	mustFail(t, newAdmin(t, "second").run(t, repoCmd("init", prefix)...), 20*time.Second,
		"passphrase does not open the repository at s3://corso-test/"+prefix)
	after := objects(t, bucket, prefix+"/")
	if len(before) != len(after) {
		t.Fatalf("objects changed: %d before, %d after", len(before), len(after))
	}
	for k, v := range before {
		if after[k] != v {
			t.Fatalf("object %s changed", k)
		}
	}
}

func TestRepoConnectFailures(t *testing.T) {
	prefix := "connect-failures"
	mustSucceed(t, newAdmin(t, "right").run(t, repoCmd("init", prefix)...))

	t.Run("wrong passphrase", func(t *testing.T) {
		mustFail(t, newAdmin(t, "wrong").run(t, repoCmd("connect", prefix)...), 20*time.Second, "wrong passphrase")
	})
	t.Run("prefix without repository", func(t *testing.T) {
		mustFail(t, newAdmin(t, "right").run(t, repoCmd("connect", "nothing-here")...), 20*time.Second,
			"no repository at s3://corso-test/nothing-here")
	})
	t.Run("wrong S3 secret", func(t *testing.T) {
		a := newAdmin(t, "right")
		r := corso(t, map[string]string{"CORSO_PASSPHRASE": "right", "AWS_SECRET_ACCESS_KEY": "not-the-secret"},
			append(repoCmd("connect", prefix), "--config-file", a.config)...)
		mustFail(t, r, 20*time.Second, "s3://corso-test/"+prefix)
	})
}

func TestRepoInitOnMissingBucketCreatesNothing(t *testing.T) {
	a := newAdmin(t, "pw")
	args := []string{"repo", "init", "s3", "--bucket", "no-such-bucket", "--endpoint", dev.Env["CORSO_S3_ENDPOINT"], "--disable-tls"}
	mustFail(t, a.run(t, args...), 20*time.Second, `bucket "no-such-bucket" does not exist`)
	if bucketExists(t, "no-such-bucket") {
		t.Fatal("init created the bucket")
	}
	if _, err := os.Stat(a.config); err == nil {
		t.Fatal("a failed init wrote a config file")
	}
}

func TestRepositoriesSideBySideInOneBucket(t *testing.T) {
	prefixes := []string{"side/a", "side/b", "side/a/nested", "side/a/nested/deeper"}
	ids := map[string]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, p := range prefixes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := parseRepo(t, newAdmin(t, "pw-"+p).run(t, repoCmd("init", p, "--json")...))
			mu.Lock()
			ids[p] = out.Result.RepositoryID
			mu.Unlock()
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, p := range prefixes {
		if seen[ids[p]] {
			t.Fatalf("two prefixes share repository id %s", ids[p])
		}
		seen[ids[p]] = true
		// Each opens with its own passphrase, and only with it.
		got := parseRepo(t, newAdmin(t, "pw-"+p).run(t, repoCmd("connect", p, "--json")...))
		if got.Result.RepositoryID != ids[p] {
			t.Fatalf("%s: connect id %s, want %s", p, got.Result.RepositoryID, ids[p])
		}
		if p != "side/b" {
			mustFail(t, newAdmin(t, "pw-side/b").run(t, repoCmd("connect", p)...), 20*time.Second, "wrong passphrase")
		}
	}
}

func TestRepoFilesystem(t *testing.T) {
	a := newAdmin(t, "fs-pass")
	dir := filepath.Join(t.TempDir(), "repo")
	init := parseRepo(t, a.run(t, "repo", "init", "filesystem", "--path", dir, "--json"))
	conn := parseRepo(t, newAdmin(t, "fs-pass").run(t, "repo", "connect", "filesystem", "--path", dir, "--json"))
	if !init.Result.Created || conn.Result.RepositoryID != init.Result.RepositoryID {
		t.Fatalf("init %+v connect %+v", init.Result, conn.Result)
	}
	mustFail(t, newAdmin(t, "nope").run(t, "repo", "connect", "filesystem", "--path", dir), 20*time.Second, "wrong passphrase")
	mustFail(t, a.run(t, "repo", "connect", "filesystem", "--path", filepath.Join(dir, "missing")), 20*time.Second, "no repository")
}

func TestRepoBadInputFailsBeforeSubmitting(t *testing.T) {
	a := newAdmin(t, "pw")
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"no bucket":        {[]string{"repo", "init", "s3"}, "--bucket is required"},
		"endpoint scheme":  {[]string{"repo", "init", "s3", "--bucket", "b", "--endpoint", "http://x:9000"}, "without http://"},
		"relative fs path": {[]string{"repo", "init", "filesystem", "--path", "rel/dir"}, "must be absolute"},
		"reserved prefix":  {[]string{"repo", "init", "s3", "--bucket", "b", "--prefix", "x/kopia"}, "reserved"},
		"unknown flag":     {[]string{"repo", "init", "s3", "--bukket", "b"}, "unknown flag"},
		"half an AWS key":  {[]string{"repo", "init", "s3", "--bucket", "b", "--aws-access-key", "AK"}, "go together"},
	} {
		t.Run(name, func(t *testing.T) {
			mustFail(t, a.run(t, tc.args...), 5*time.Second, tc.want)
		})
	}
	t.Run("no passphrase", func(t *testing.T) {
		mustFail(t, newAdmin(t, "").run(t, repoCmd("init", "x")...), 5*time.Second, "CORSO_PASSPHRASE")
	})
	t.Run("temporal unreachable", func(t *testing.T) {
		mustFail(t, a.run(t, append(repoCmd("init", "x"), "--temporal-address", "127.0.0.1:1")...), 30*time.Second, "cannot reach Temporal at 127.0.0.1:1")
	})
}
