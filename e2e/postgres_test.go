package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/localstack"
)

// The dev stack's Temporal on PostgreSQL, as the compose deployment runs
// it: a stack of the test's own on a throwaway PostgreSQL server backs up
// two mailboxes, lists them, finds each mailbox's run by corso's search
// attributes in visibility, and does all of it again after a restart on
// the same databases. The data dir holds no SQLite database, and no file
// or log of the stack holds the database password.
func TestTemporalOnPostgreSQL(t *testing.T) {
	if !localstack.PostgresInstalled() {
		t.Skip("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); scripts/postgres.sh install installs it")
	}
	pg, err := localstack.StartPostgres()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := pg.Destroy(); err != nil {
			t.Error(err)
		}
	})
	// corso-dev inherits it; workers and the CLI never see CORSO_ variables
	// of the test's environment.
	t.Setenv(localstack.TemporalDBPasswordEnv, pg.Password)
	dir := t.TempDir()
	st, err := localstack.Start(dev.BinDir, dir, append([]string{"--users", "1", "--items-per-user", "1", "--headless"}, pg.DevArgs()...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Stop)
	sim := ownTenant(t, graphsim.TenantOptions{Seed: 83, Users: 2, ItemsPerUser: 12, Mix: graphsim.ItemMix{Mail: 1}, Clean: true})
	if _, err := st.StartWorker("postgres-worker", sim.WorkerEnv()); err != nil {
		t.Fatal(err)
	}
	const passphrase = "exchange-temporal-on-postgresql"
	cfg := filepath.Join(t.TempDir(), "corso.toml")
	corsoOn := func(args ...string) result {
		t.Helper()
		r, err := st.Corso(context.Background(), sim.CLIEnv(passphrase), append(args, "--config-file", cfg)...)
		if err != nil {
			t.Fatalf("run corso %v: %v", args, err)
		}
		recordCLI(sim.CLIEnv(passphrase), args, r)
		mustSucceed(t, r)
		return r
	}
	corsoOn("repo", "init", "s3", "--bucket", bucket, "--prefix", "postgres", "--endpoint", st.Env["CORSO_S3_ENDPOINT"], "--disable-tls")
	users := mailboxes(t, sim)
	var out createJSON
	r := corsoOn("backup", "create", "exchange", "--mailbox", strings.Join(users, ","), "--json")
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		t.Fatalf("parse backup create: %v\n%s", err, r.Stdout)
	}
	made := byResource(out.Backups)
	for _, u := range users {
		b := made[u]
		if b.Status != backup.StatusCompleted || b.Items != int64(len(truth(t, sim, u))) {
			t.Fatalf("%s: %+v, want completed with the tenant's %d items", u, b, len(truth(t, sim, u)))
		}
	}

	check := func(when string) {
		t.Helper()
		var listed []backup.Summary
		if err := json.Unmarshal([]byte(corsoOn("backup", "list", "exchange", "--json").Stdout), &listed); err != nil {
			t.Fatal(err)
		}
		if got := byResource(listed); len(got) != len(users) || got[users[0]].BackupID != made[users[0]].BackupID {
			t.Fatalf("%s: backup list shows %+v, want the %d backups made", when, listed, len(users))
		}
		// The CLI's own visibility query (running backups) over corso's
		// search attributes.
		corsoOn("backup", "prune", "exchange", "--keep-last", "1", "--dry-run", "--json")
		for _, u := range users {
			if n := visibleRuns(t, st, "CorsoOperation = 'backup' AND CorsoBackupID = '"+made[u].BackupID+"' AND ExecutionStatus = 'Completed'"); n != 1 {
				t.Fatalf("%s: visibility finds %d completed runs of %s's backup by its search attributes, want 1", when, n, u)
			}
		}
	}
	check("after the backup")
	if err := st.Restart(0); err != nil {
		t.Fatalf("second start on the same databases: %v", err)
	}
	check("after a restart")

	if _, err := os.Stat(filepath.Join(dir, "dev", "temporal.db")); err == nil {
		t.Fatal("the data dir holds a SQLite database: Temporal did not run on PostgreSQL")
	}
	files := st.Logs()
	entries, _ := os.ReadDir(filepath.Join(dir, "dev"))
	for _, e := range entries {
		if !e.IsDir() {
			files = append(files, filepath.Join(dir, "dev", e.Name()))
		}
	}
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil && strings.Contains(string(b), pg.Password) {
			t.Errorf("%s holds the PostgreSQL password", f)
		}
	}
}

// visibleRuns counts the workflow runs a visibility query finds, waiting
// a little for visibility to catch up.
func visibleRuns(t *testing.T, st *localstack.Stack, query string) int {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: st.Env["TEMPORAL_ADDRESS"], Namespace: st.Env["TEMPORAL_NAMESPACE"]})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	n := 0
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		resp, err := c.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Namespace: st.Env["TEMPORAL_NAMESPACE"], Query: query})
		if err != nil {
			t.Fatalf("visibility query %q: %v", query, err)
		}
		if n = len(resp.Executions); n > 0 || time.Now().After(deadline) {
			return n
		}
	}
}
