package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/codec"
	"github.com/corso-temporal/corso/localstack"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// admin is one repository at its own prefix, backing up one tenant.
type admin struct {
	stack  *localstack.Stack
	tenant *localstack.Tenant
	prefix string
	pass   string
	config string
	flags  []string
}

func newAdmin(s *localstack.Stack, t *localstack.Tenant, prefix string, flags ...string) (*admin, error) {
	a := &admin{stack: s, tenant: t, prefix: prefix, pass: "bench-" + prefix, config: filepath.Join(s.Dir, prefix+".toml"), flags: flags}
	_, err := a.run("repo", "init", "s3", "--bucket", "corso-test", "--prefix", prefix,
		"--endpoint", s.Env["CORSO_S3_ENDPOINT"], "--disable-tls")
	return a, err
}

func (a *admin) run(args ...string) (localstack.Result, error) {
	args = append(append(args, a.flags...), "--config-file", a.config)
	r, err := a.stack.Corso(context.Background(), a.tenant.CLIEnv(a.pass), args...)
	if err == nil && r.Code != 0 {
		err = fmt.Errorf("corso %s: %s", strings.Join(args[:3], " "), strings.TrimSpace(r.Stderr))
	}
	return r, err
}

// backup backs up the selected mailboxes and returns the summaries and
// the wall time the CLI waited.
func (a *admin) backup(mailboxes string) ([]backup.Summary, time.Duration, error) {
	r, err := a.run("backup", "create", "exchange", "--mailbox", mailboxes, "--json")
	if err != nil {
		return nil, 0, err
	}
	bs, err := summaries(r.Stdout)
	return bs, r.Took, err
}

// summaries reads `backup create --json` and fails on a failed backup.
func summaries(stdout string) ([]backup.Summary, error) {
	var out struct {
		Backups []backup.Summary `json:"backups"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		return nil, err
	}
	for _, b := range out.Backups {
		if b.Status != backup.StatusCompleted {
			return nil, fmt.Errorf("backup of %s: %s %s", b.ResourceName, b.Status, b.Error)
		}
	}
	return out.Backups, nil
}

// open opens the repository in this process, as a worker would.
func (a *admin) open(ctx context.Context, conns *repository.Connections) (*repository.Repository, error) {
	env := a.stack.Env
	return conns.Open(ctx, repository.Location{
		Provider: repository.S3, Bucket: "corso-test", Prefix: a.prefix, Endpoint: env["CORSO_S3_ENDPOINT"],
		Region: "us-east-1", DisableTLS: true,
	}, repository.Credentials{Passphrase: a.pass, AccessKeyID: env["AWS_ACCESS_KEY_ID"], SecretAccessKey: env["AWS_SECRET_ACCESS_KEY"]})
}

// items reads back every item the backups stored.
func (a *admin) items(ctx context.Context, conns *repository.Connections, bs []backup.Summary) ([][]byte, error) {
	r, err := a.open(ctx, conns)
	if err != nil {
		return nil, err
	}
	defer r.Release(ctx)
	var out [][]byte
	for _, s := range bs {
		b, err := r.Backup(ctx, s.BackupID)
		if err != nil {
			return nil, err
		}
		idx, err := r.Index(ctx, b)
		if err != nil {
			return nil, err
		}
		for _, c := range idx.Collections {
			ents, err := r.ReadDir(ctx, c.DirID)
			if err != nil {
				return nil, err
			}
			for _, e := range ents {
				rd, err := r.OpenItem(ctx, e.ObjectID.String())
				if err != nil {
					return nil, err
				}
				buf := make([]byte, e.FileSize)
				_, err = io.ReadFull(rd, buf)
				rd.Close()
				if err != nil {
					return nil, err
				}
				out = append(out, buf)
			}
		}
	}
	return out, nil
}

// rawIngest writes items into a repository with the shortest loop kopia
// allows: one write session, a few writers, one flush. It is the storage
// engine's limit for the same data on the same S3 server.
func rawIngest(ctx context.Context, conns *repository.Connections, a *admin, items [][]byte, writers int) (time.Duration, error) {
	r, err := a.open(ctx, conns)
	if err != nil {
		return 0, err
	}
	defer r.Release(ctx)
	start := time.Now()
	wctx, sess, err := r.NewSession(ctx, "raw ingest")
	if err != nil {
		return 0, err
	}
	defer sess.Close(wctx)
	next := make(chan int)
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if _, err := sess.WriteItem(wctx, fmt.Sprint(i), time.Time{}, bytes.NewReader(items[i])); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := range items {
		next <- i
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return 0, err
	default:
	}
	if err := sess.Flush(wctx); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// restore restores a backup and returns what it did and the wall time.
func (a *admin) restore(args ...string) (workflows.RestoreResult, time.Duration, error) {
	var res workflows.RestoreResult
	r, err := a.run(append([]string{"restore", "exchange", "--json"}, args...)...)
	if err != nil {
		return res, 0, err
	}
	return res, r.Took, json.Unmarshal([]byte(r.Stdout), &res)
}

// export exports a backup into dir and returns what it wrote and the wall
// time.
func (a *admin) export(dir string, args ...string) (workflows.ExportResult, time.Duration, error) {
	var res workflows.ExportResult
	r, err := a.run(append([]string{"export", "exchange", dir, "--json"}, args...)...)
	if err != nil {
		return res, 0, err
	}
	return res, r.Took, json.Unmarshal([]byte(r.Stdout), &res)
}

// dialTemporal connects to the stack's Temporal with its codec, to read
// histories and describe workflows.
func dialTemporal(stack *localstack.Stack) (client.Client, error) {
	dc, err := codec.NewDataConverter(stack.Env["CORSO_CODEC_KEY"])
	if err != nil {
		return nil, err
	}
	return client.Dial(client.Options{HostPort: stack.Env["TEMPORAL_ADDRESS"], Namespace: "default", DataConverter: dc})
}

// waitWithin waits for the request id to end, at most limit (0: no
// limit), and decodes its result into res. cutShort reports that the
// limit came first and the request still runs; the caller terminates it
// once it has read what it measures.
func waitWithin(ctx context.Context, c client.Client, id string, limit time.Duration, res any) (cutShort bool, err error) {
	wctx, cancel := ctx, context.CancelFunc(func() {})
	if limit > 0 {
		wctx, cancel = context.WithTimeout(ctx, limit)
	}
	err = c.GetWorkflow(wctx, id, "").Get(wctx, res)
	cancel()
	if err == nil {
		return false, nil
	}
	// The wait ends with the limit as the context's deadline or as the
	// server's: either way the request still runs.
	d, derr := c.DescribeWorkflowExecution(ctx, id, "")
	if derr == nil && d.WorkflowExecutionInfo.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return true, nil
	}
	return false, err
}

// stopRequest terminates a request cut short by the bench's time limit.
func stopRequest(ctx context.Context, c client.Client, id string) error {
	return c.TerminateWorkflow(ctx, id, "", "bench time limit")
}

// submit makes a request without waiting for it (the args carry
// --wait=false --json) and returns its workflow id.
func (a *admin) submit(args ...string) (string, error) {
	r, err := a.run(args...)
	if err != nil {
		return "", err
	}
	var sub struct {
		Workflow struct {
			WorkflowID string `json:"workflowID"`
		} `json:"workflow"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &sub); err != nil {
		return "", fmt.Errorf("read the submitted request: %w", err)
	}
	return sub.Workflow.WorkflowID, nil
}
