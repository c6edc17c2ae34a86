package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kopia/kopia/repo"
	"github.com/kopia/kopia/repo/object"

	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/localstack"
	"github.com/corso-temporal/corso/repository"
)

func TestDataAtRestIsEncryptedInS3(t *testing.T) {
	ctx := context.Background()
	prefix := "at-rest"
	mustSucceed(t, newAdmin(t, "at-rest-pw").run(t, repoCmd("init", prefix)...))

	// Write a marker into the repository as a worker does.
	conns, err := repository.NewConnections(repository.ClientOptions{Hostname: "e2e", Username: "corso", Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer conns.Close(ctx)
	r, err := conns.Open(ctx, repository.Location{
		Provider: repository.S3, Bucket: bucket, Prefix: prefix, Endpoint: dev.Env["CORSO_S3_ENDPOINT"],
		Region: "us-east-1", DisableTLS: true,
	}, repository.Credentials{
		Passphrase: "at-rest-pw", AccessKeyID: dev.Env["AWS_ACCESS_KEY_ID"], SecretAccessKey: dev.Env["AWS_SECRET_ACCESS_KEY"],
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release(ctx)
	marker := []byte("CORSO-AT-REST-MARKER-e41d")
	err = repo.WriteSession(ctx, r, repo.WriteSessionOptions{Purpose: "e2e"}, func(ctx context.Context, w repo.RepositoryWriter) error {
		ow := w.NewObjectWriter(ctx, object.WriterOptions{Compressor: repository.Compressor})
		defer ow.Close()
		if _, err := ow.Write(bytes.Repeat(marker, 1000)); err != nil {
			return err
		}
		_, err := ow.Result()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	keys := objects(t, bucket, prefix+"/")
	if len(keys) < 3 {
		t.Fatalf("only %d objects after a write", len(keys))
	}
	for k := range keys {
		if bytes.Contains(readObject(t, k), marker) {
			t.Errorf("object %s holds the marker in plaintext", k)
		}
	}
}

// iamAction names the IAM permission an S3 request needs, as the Service
// Authorization Reference maps S3's API operations to IAM actions
// (docs.aws.amazon.com/service-authorization/latest/reference/list_s3.html):
// HeadBucket and ListObjects(V2) need s3:ListBucket, HeadObject and
// GetObject s3:GetObject, PutObject and the multipart upload's
// CreateMultipartUpload, UploadPart and CompleteMultipartUpload
// s3:PutObject, AbortMultipartUpload s3:AbortMultipartUpload, ListParts
// s3:ListMultipartUploadParts, ListMultipartUploads
// s3:ListBucketMultipartUploads, DeleteObject and DeleteObjects
// s3:DeleteObject; versioned and configuration requests their own.
func iamAction(r *http.Request) string {
	path := strings.TrimPrefix(r.URL.Path, "/")
	_, key, _ := strings.Cut(path, "/")
	q := r.URL.Query()
	bucketLevel := key == ""
	switch {
	case q.Has("location"):
		return "s3:GetBucketLocation"
	case q.Has("versioning"):
		return "s3:GetBucketVersioning"
	case q.Has("object-lock"):
		return "s3:GetBucketObjectLockConfiguration"
	case q.Has("versions"):
		return "s3:ListBucketVersions"
	case q.Has("acl"), q.Has("tagging"), q.Has("retention"), q.Has("legal-hold"), q.Has("policy"), q.Has("lifecycle"):
		return "other: " + r.Method + " " + r.URL.RequestURI()
	case bucketLevel && q.Has("uploads") && r.Method == http.MethodGet:
		return "s3:ListBucketMultipartUploads"
	case bucketLevel && q.Has("delete") && r.Method == http.MethodPost:
		return "s3:DeleteObject"
	case bucketLevel && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		return "s3:ListBucket"
	case bucketLevel && r.Method == http.MethodPut:
		return "s3:CreateBucket"
	case q.Has("uploadId") && r.Method == http.MethodDelete:
		return "s3:AbortMultipartUpload"
	case q.Has("uploadId") && r.Method == http.MethodGet:
		return "s3:ListMultipartUploadParts"
	case q.Has("versionId") && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		return "s3:GetObjectVersion"
	case q.Has("versionId") && r.Method == http.MethodDelete:
		return "s3:DeleteObjectVersion"
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		return "s3:GetObject"
	case r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != "":
		return "other: copy " + r.URL.RequestURI() // s3:PutObject, and s3:GetObject on the source
	case r.Method == http.MethodPut, r.Method == http.MethodPost && (q.Has("uploads") || q.Has("uploadId")):
		return "s3:PutObject"
	case r.Method == http.MethodDelete:
		return "s3:DeleteObject"
	}
	return "other: " + r.Method + " " + r.URL.RequestURI()
}

// multipartRequest tells the requests of a multipart upload.
func multipartRequest(r *http.Request) bool {
	q := r.URL.Query()
	return q.Has("uploads") || q.Has("uploadId") || q.Has("partNumber")
}

// documentedIAMActions are the actions README's storage section says the
// S3 credentials need.
func documentedIAMActions(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i := strings.Index(text, "The S3 credentials need only")
	if i < 0 {
		t.Fatal("README.md no longer says which S3 actions the credentials need")
	}
	text = text[i:]
	if j := strings.Index(text, "on the bucket"); j > 0 {
		text = text[:j]
	}
	out := map[string]bool{}
	for _, a := range regexp.MustCompile("`(s3:[A-Za-z]+)`").FindAllStringSubmatch(text, -1) {
		out[a[1]] = true
	}
	if len(out) == 0 {
		t.Fatalf("no action in README's policy: %q", text)
	}
	return out
}

// s3Recorder is a proxy to the dev stack's S3 server that records the IAM
// action of every request, by phase.
type s3Recorder struct {
	mu        sync.Mutex
	phase     string
	used      map[string]map[string]int // action -> phase -> requests
	multipart int
	largest   int64 // largest object body written in one request
}

func newS3Recorder(t *testing.T) (*s3Recorder, string) {
	t.Helper()
	target, _ := url.Parse("http://" + dev.Env["CORSO_S3_ENDPOINT"])
	proxy := httputil.NewSingleHostReverseProxy(target)
	rec := &s3Recorder{used: map[string]map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		action := iamAction(r)
		rec.mu.Lock()
		if rec.used[action] == nil {
			rec.used[action] = map[string]int{}
		}
		rec.used[action][rec.phase]++
		if multipartRequest(r) {
			rec.multipart++
		}
		if r.Method == http.MethodPut && r.ContentLength > rec.largest {
			rec.largest = r.ContentLength
		}
		rec.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return rec, strings.TrimPrefix(srv.URL, "http://")
}

func (rec *s3Recorder) in(phase string) {
	rec.mu.Lock()
	rec.phase = phase
	rec.mu.Unlock()
}

// TestOnlyTheSeedsIAMActionsAreUsed routes every kind of repository
// traffic through a proxy that names each request's IAM action: init and
// connect, a OneDrive backup holding a file whose blobs exceed minio-go's
// 16 MiB multipart threshold, an incremental, list, details, an export (which
// the CLI itself reads), a restore and a delete. The actions used must be
// exactly README's policy: none outside it, and every one it lists needed.
func TestOnlyTheSeedsIAMActionsAreUsed(t *testing.T) {
	rec, endpoint := newS3Recorder(t)
	a := newAdmin(t, "iam")
	flags := []string{"--bucket", bucket, "--prefix", "iam", "--endpoint", endpoint, "--disable-tls"}
	rec.in("init")
	mustSucceed(t, a.run(t, append([]string{"repo", "init", "s3"}, flags...)...))
	rec.in("connect")
	mustSucceed(t, a.run(t, append([]string{"repo", "connect", "s3"}, flags...)...))
	mustFail(t, newAdmin(t, "iam-wrong").run(t, append([]string{"repo", "connect", "s3"}, flags...)...), 20*time.Second, "wrong passphrase")
	// Without a region the client asks the bucket's location.
	mustSucceed(t, corso(t, map[string]string{"CORSO_PASSPHRASE": "iam", "AWS_REGION": ""},
		append([]string{"repo", "connect", "s3", "--config-file", a.config}, flags...)...))

	// A tenant of its own, with a worker of its own, whose one OneDrive
	// holds a 40 MiB file.
	const big = 40 << 20
	sim := ownTenant(t, graphsim.TenantOptions{Seed: 33, Users: 1, ItemsPerUser: 12, Mix: graphsim.ItemMix{Files: 1},
		MaxFileSize: 64 << 10, Clean: true})
	u := userWithDrive(t, sim)
	for _, r := range sim.Mutate([]graphsim.MutateOp{{Op: "add", Kind: "file", User: u.ID, Size: big}}) {
		if r.Error != "" {
			t.Fatalf("mutate: %+v", r)
		}
	}
	queue := "e2e-iam"
	w, err := dev.StartWorker("e2e-iam", sim.WorkerEnv(), "--task-queue", queue)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { localstack.Terminate(w) })
	x := exchangeAdmin{admin: a, prefix: "iam", sim: sim, extra: []string{"--task-queue", queue}}

	rec.in("backup")
	first := x.driveBackup(t, "onedrive", "user", u.UPN)
	assertSameItems(t, x.storedFiles(t, first[0].BackupID), driveTruth(t, sim, u.ID, "OneDrive"))
	rec.in("incremental")
	sim.Mutate([]graphsim.MutateOp{{Op: "add", Kind: "file", User: u.ID, Count: 2}})
	second := x.driveBackup(t, "onedrive", "user", u.UPN)
	rec.in("read")
	mustSucceed(t, x.run(t, "backup", "list", "onedrive"))
	mustSucceed(t, x.run(t, "backup", "details", "onedrive", "--backup", second[0].BackupID))
	rec.in("export")
	mustSucceed(t, x.run(t, "export", "onedrive", t.TempDir(), "--backup", second[0].BackupID))
	rec.in("restore")
	x.restoreDrive(t, "onedrive", "--backup", second[0].BackupID, "--destination", "IAM", "--no-permissions")
	rec.in("delete")
	mustSucceed(t, x.run(t, "backup", "delete", "onedrive", "--backup", first[0].BackupID))
	rec.in("after")
	mustFail(t, x.run(t, "backup", "details", "onedrive", "--backup", first[0].BackupID), time.Minute, first[0].BackupID)

	rec.mu.Lock()
	defer rec.mu.Unlock()
	documented := documentedIAMActions(t)
	var names []string
	for action, phases := range rec.used {
		names = append(names, fmt.Sprintf("%s %v", action, phases))
		if !documented[action] {
			t.Errorf("the product needs %s (requests by phase: %v), which README's IAM policy does not grant", action, phases)
		}
	}
	for action := range documented {
		if len(rec.used[action]) == 0 {
			t.Errorf("README's IAM policy lists %s, which nothing the product did needed", action)
		}
	}
	for _, phase := range []string{"init", "connect", "backup", "incremental", "read", "export", "restore", "delete"} {
		n := 0
		for _, phases := range rec.used {
			n += phases[phase]
		}
		if n == 0 {
			t.Errorf("no S3 request of %s went through the proxy", phase)
		}
	}
	// kopia writes each blob, packs of up to about 20 MiB included, in one
	// PUT (it turns minio-go's multipart uploads off), so objects above
	// the 16 MiB from which minio-go would upload in parts need no
	// multipart permission.
	if rec.multipart != 0 {
		t.Errorf("%d multipart upload requests", rec.multipart)
	}
	if rec.largest <= 16<<20 {
		t.Errorf("largest object written was %d bytes, none above 16 MiB: the %d-byte file did not go through the proxy in one piece", rec.largest, big)
	}
	sort.Strings(names)
	t.Logf("IAM actions used: %v; largest PUT %d bytes", names, rec.largest)
}
