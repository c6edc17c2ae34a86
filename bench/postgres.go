package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/localstack"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// Workers and sampled mailboxes of the postgres section.
const (
	postgresWorkers = 4
	postgresSample  = 10
)

// postgresRun backs up every mailbox of a tenant of c.postgresUsers users
// of two small items each with four workers, through a dev stack whose
// Temporal keeps its state in PostgreSQL (a throwaway server that
// scripts/postgres.sh installs and starts), and then, unless
// -postgres-compare=false, the same tenant through the SQLite stack. It
// reports each run's mailboxes per second and wall time, and checks that
// every backup completed and that a sample of mailboxes holds exactly the
// tenant's items.
func postgresRun(ctx context.Context, rep *report, sqlite *localstack.Stack, conns *repository.Connections, c config) error {
	pg, err := localstack.StartPostgres()
	if err != nil {
		return fmt.Errorf("PostgreSQL for the postgres section: %w", err)
	}
	defer func() { _ = pg.Destroy() }()
	// corso-dev inherits it; workers and the CLI get no CORSO_ variables of
	// this process.
	if err := os.Setenv(localstack.TemporalDBPasswordEnv, pg.Password); err != nil {
		return err
	}
	defer os.Unsetenv(localstack.TemporalDBPasswordEnv)
	dir := filepath.Join(sqlite.Dir, "postgres")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	stack, err := localstack.Start(sqlite.BinDir, dir,
		append([]string{"--users", "1", "--items-per-user", "1", "--headless"}, pg.DevArgs()...)...)
	if err != nil {
		return fmt.Errorf("dev stack on PostgreSQL: %w", err)
	}
	defer stack.Stop()

	t, err := localstack.StartTenant(graphsim.Options{Tenant: graphsim.TenantOptions{
		Seed: 50, Users: c.postgresUsers, ItemsPerUser: 2, Groups: -1, Mix: graphsim.ItemMix{Mail: 1}, Clean: true,
	}})
	if err != nil {
		return err
	}
	defer t.Close()
	mailboxes := 0
	for _, u := range t.Info().Users {
		if u.HasMailbox {
			mailboxes++
		}
	}

	runs := []struct {
		store string
		stack *localstack.Stack
	}{{"PostgreSQL", stack}}
	if c.postgresCompare {
		runs = append(runs, struct {
			store string
			stack *localstack.Stack
		}{"SQLite", sqlite})
	}
	var rates []float64
	for i, r := range runs {
		fmt.Fprintf(os.Stderr, "Temporal on %s: %d users x 2 items, %d workers\n", r.store, c.postgresUsers, postgresWorkers)
		b, a, err := backupWithWorkers(r.stack, t, fmt.Sprintf("bench-postgres-%d", i))
		if err != nil {
			return fmt.Errorf("backup with Temporal on %s: %w", r.store, err)
		}
		tot := b.totals
		rate := float64(tot.Completed) / b.took.Seconds()
		rates = append(rates, rate)
		rep.add("Temporal on "+r.store, fmt.Sprintf("%d mailboxes (%d users) x 2 items, %d workers: %s, %.2f mailboxes/s",
			tot.Completed, c.postgresUsers, postgresWorkers, b.took.Round(time.Second), rate))
		mismatched, err := sampleMismatches(ctx, conns, a, t, b.listed)
		if err != nil {
			return err
		}
		sampled := min(postgresSample, len(b.listed))
		rep.check("Temporal on "+r.store+": backups complete and match the tenant",
			fmt.Sprintf("%d of %d mailboxes backed up, %d failed; %d of %d sampled mailboxes differ from the tenant",
				tot.Completed, mailboxes, tot.Failed, len(mismatched), sampled),
			"all, none", tot.Completed == mailboxes && tot.Failed == 0 && sampled > 0 && len(mismatched) == 0)
		if err := reportScaleHistories(ctx, rep, r.stack, b.started); err != nil {
			return err
		}
	}
	if len(rates) == 2 {
		rep.add("PostgreSQL / SQLite mailboxes/s", fmt.Sprintf("%.2f", rates[0]/rates[1]))
	}
	return nil
}

// tenantBackup is one `backup create --mailbox '*'` request: its totals,
// the backups its result lists (at most workflows.MaxSummaries), when it
// was submitted and how long it took.
type tenantBackup struct {
	totals  workflows.BackupTotals
	listed  []backup.Summary
	started time.Time
	took    time.Duration
}

// backupWithWorkers backs up every mailbox of t into a repository of its
// own on stack with postgresWorkers workers on a task queue of their own,
// and returns the request and the repository's admin.
func backupWithWorkers(stack *localstack.Stack, t *localstack.Tenant, queue string) (tenantBackup, *admin, error) {
	for w := range postgresWorkers {
		p, err := stack.StartWorker(fmt.Sprintf("%s-%d", queue, w), t.WorkerEnv(), "--task-queue", queue)
		if err != nil {
			return tenantBackup{}, nil, err
		}
		defer localstack.Terminate(p)
	}
	a, err := newAdmin(stack, t, queue, "--task-queue", queue)
	if err != nil {
		return tenantBackup{}, nil, err
	}
	// The CLI submits; the bench waits, since a tenant of 10,000 users
	// outlasts the harness's command timeout.
	tc, err := dialTemporal(stack)
	if err != nil {
		return tenantBackup{}, nil, err
	}
	defer tc.Close()
	started := time.Now()
	id, err := a.submit("backup", "create", "exchange", "--mailbox", "*", "--wait=false", "--json")
	if err != nil {
		return tenantBackup{}, nil, err
	}
	stop := make(chan struct{})
	defer close(stop)
	go reportScaleProgress(context.Background(), tc, id, started, stop)
	var res workflows.ExchangeBackupResult
	if err := tc.GetWorkflow(context.Background(), id, "").Get(context.Background(), &res); err != nil {
		return tenantBackup{}, nil, fmt.Errorf("backup of every mailbox: %w", err)
	}
	if res.Totals == nil {
		return tenantBackup{}, nil, fmt.Errorf("the request's result has no totals")
	}
	return tenantBackup{totals: *res.Totals, listed: res.Backups, started: started, took: time.Since(started)}, a, nil
}

// sampleMismatches compares what postgresSample backups spread over bs
// stored with the tenant's mail, item by item, and returns the mailboxes
// that differ or have no mail to compare.
func sampleMismatches(ctx context.Context, conns *repository.Connections, a *admin, t *localstack.Tenant, bs []backup.Summary) ([]string, error) {
	var out []string
	step := max(1, len(bs)/postgresSample)
	for i := 0; i < len(bs) && i/step < postgresSample; i += step {
		b := bs[i]
		items, err := a.items(ctx, conns, []backup.Summary{b})
		if err != nil {
			return nil, fmt.Errorf("read the backup of %s: %w", b.ResourceName, err)
		}
		st, err := t.State(graphsim.StateFilter{User: b.ResourceName, Category: "mail"})
		if err != nil {
			return nil, err
		}
		var want []string
		for _, it := range st.Items {
			if it.Kind != "folder" {
				want = append(want, it.Hash)
			}
		}
		slices.Sort(want)
		// Every mailbox of this tenant has mail: comparing two empty lists
		// would prove nothing.
		if len(want) == 0 || !slices.Equal(hashes(items), want) {
			out = append(out, b.ResourceName)
		}
	}
	return out, nil
}

// hashes are the SHA-256 digests of items, sorted.
func hashes(items [][]byte) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		h := sha256.Sum256(it)
		out = append(out, hex.EncodeToString(h[:]))
	}
	slices.Sort(out)
	return out
}
