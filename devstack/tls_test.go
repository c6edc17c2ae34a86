package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/corso-temporal/corso/codec"
	"github.com/corso-temporal/corso/temporalclient"
)

// TestTemporalWithTLSDirRequiresClientCertificates starts the embedded
// server as `corso-dev up --tls-dir` does and dials it as corso does: with
// no TLS, and with TLS but no client certificate, the dial fails; with
// the stack's client certificate it describes the namespace and runs a
// workflow to completion on a worker of its own.
func TestTemporalWithTLSDirRequiresClientCertificates(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	dir := t.TempDir()
	tlsDir := filepath.Join(dir, "tls")
	st, err := openStackTLS(tlsDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{tlsServerKey, tlsClientKey} {
		if fi, err := os.Stat(st.path(k)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, mode %v; want 0600", k, err, fi.Mode().Perm())
		}
	}
	ports, err := freePorts(host, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	tsvc := &temporalService{dir: dir, port: ports[0], namespace: "default", excludePorts: map[int]bool{}, tls: &st}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := tsvc.Start(ctx, func(err error) { t.Errorf("temporal stopped: %v", err) }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopCtx, stop := context.WithTimeout(context.Background(), stopTimeout)
		defer stop()
		_ = tsvc.Stop(stopCtx)
	})

	key, _ := codec.GenerateKey()
	base := temporalclient.Config{Address: hostPort(tsvc.port), Namespace: "default", CodecKey: key}
	for name, tlsOpts := range map[string]temporalclient.TLSOptions{
		"without TLS":              {},
		"with TLS, no client cert": {CAPath: st.path(tlsCA)},
		"with another CA's cert":   otherClient(t, st),
	} {
		c := base
		c.TLS = tlsOpts
		if cl, err := temporalclient.Dial(c); err == nil {
			cl.Close()
			t.Errorf("dial %s succeeded", name)
		} else {
			t.Logf("dial %s: %v", name, err)
		}
	}

	// What corso reads from the env file the stack writes.
	env := map[string]string{}
	for _, v := range tsvc.Env() {
		env[v.Key] = v.Value
	}
	c := base
	c.TLS = temporalclient.TLSOptions{CAPath: env["TEMPORAL_TLS_CA"], CertPath: env["TEMPORAL_TLS_CERT"], KeyPath: env["TEMPORAL_TLS_KEY"]}
	cl, err := temporalclient.Dial(c)
	if err != nil {
		t.Fatalf("dial with the client certificate: %v", err)
	}
	defer cl.Close()
	if _, err := cl.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: "default"}); err != nil {
		t.Fatalf("describe namespace over mTLS: %v", err)
	}
	const queue = "mtls-test"
	w := worker.New(cl, queue, worker.Options{})
	w.RegisterWorkflowWithOptions(func(ctx workflow.Context, in string) (string, error) { return "hello " + in, nil },
		workflow.RegisterOptions{Name: "Greet"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	run, err := cl.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: queue}, "Greet", "mtls")
	if err != nil {
		t.Fatal(err)
	}
	var out string
	if err := run.Get(ctx, &out); err != nil || out != "hello mtls" {
		t.Fatalf("workflow over mTLS: %q %v", out, err)
	}
}

// otherClient is a client certificate from a CA the server does not trust,
// with the right server CA.
func otherClient(t *testing.T, st stackTLS) temporalclient.TLSOptions {
	t.Helper()
	other, err := openStackTLS(filepath.Join(t.TempDir(), "other"))
	if err != nil {
		t.Fatal(err)
	}
	return temporalclient.TLSOptions{CAPath: st.path(tlsCA), CertPath: other.path(tlsClientCert), KeyPath: other.path(tlsClientKey)}
}

func TestTLSDirWithSomeFilesIsRefused(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, tlsCA), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := openStackTLS(dir)
	if err == nil || !strings.Contains(err.Error(), "--tls-dir") {
		t.Fatalf("partial --tls-dir: %v", err)
	}
}
