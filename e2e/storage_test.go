package e2e

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kopia/kopia/repo"
	"github.com/kopia/kopia/repo/object"

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

// iamAction names the IAM permission an S3 request needs.
func iamAction(r *http.Request) string {
	path := strings.TrimPrefix(r.URL.Path, "/")
	_, key, _ := strings.Cut(path, "/")
	q := r.URL.Query()
	switch {
	case q.Has("location"):
		return "s3:GetBucketLocation"
	case key == "" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		return "s3:ListBucket"
	case key != "" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		return "s3:GetObject"
	case key != "" && r.Method == http.MethodPut && !q.Has("acl") && !q.Has("tagging") && !q.Has("retention"):
		return "s3:PutObject"
	case key != "" && r.Method == http.MethodDelete:
		return "s3:DeleteObject"
	}
	return "other: " + r.Method + " " + r.URL.RequestURI()
}

func TestOnlyTheSeedsIAMActionsAreUsed(t *testing.T) {
	target, _ := url.Parse("http://" + dev.Env["CORSO_S3_ENDPOINT"])
	proxy := httputil.NewSingleHostReverseProxy(target)
	var mu sync.Mutex
	used := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		used[iamAction(r)]++
		mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	defer srv.Close()
	endpoint := strings.TrimPrefix(srv.URL, "http://")

	a := newAdmin(t, "iam")
	flags := []string{"--bucket", bucket, "--prefix", "iam", "--endpoint", endpoint, "--disable-tls"}
	mustSucceed(t, a.run(t, append([]string{"repo", "init", "s3"}, flags...)...))
	mustSucceed(t, a.run(t, append([]string{"repo", "connect", "s3"}, flags...)...))
	mustFail(t, newAdmin(t, "iam-wrong").run(t, append([]string{"repo", "connect", "s3"}, flags...)...), 20*time.Second, "wrong passphrase")
	// Without a region the client asks the bucket's location.
	mustSucceed(t, corso(t, map[string]string{"CORSO_PASSPHRASE": "iam", "AWS_REGION": ""},
		append([]string{"repo", "connect", "s3", "--config-file", a.config}, flags...)...))

	allowed := map[string]bool{"s3:PutObject": true, "s3:GetObject": true, "s3:ListBucket": true, "s3:DeleteObject": true, "s3:GetBucketLocation": true}
	var names []string
	for action := range used {
		names = append(names, action)
		if !allowed[action] {
			t.Errorf("request needs %s (%d times), which the seed's IAM policy does not grant", action, used[action])
		}
	}
	sort.Strings(names)
	if used["s3:PutObject"] == 0 || used["s3:GetObject"] == 0 || used["s3:ListBucket"] == 0 {
		t.Fatalf("proxy saw too little traffic: %v", used)
	}
	t.Logf("IAM actions used: %v", names)
}
