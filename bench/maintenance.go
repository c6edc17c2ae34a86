package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/localstack"
	"github.com/corso-temporal/corso/repository"
)

// maintenanceRun makes c.maintBackups incremental backups of one mailbox,
// each after one changed item, twice: without maintenance, and with the
// repository's quick maintenance on a schedule. It reports the index
// blobs the repository holds and how the last connect and incremental
// compare with the first: a year of backups must not slow them down.
func maintenanceRun(rep *report, stack *localstack.Stack, c config) error {
	ctx := context.Background()
	t, err := localstack.StartTenant(graphsim.Options{Tenant: graphsim.TenantOptions{
		Seed: 31, Users: 1, ItemsPerUser: 50, Mix: graphsim.ItemMix{Mail: 1}, Groups: -1, Sites: -1, Clean: true,
	}})
	if err != nil {
		return err
	}
	defer t.Close()
	queue := "bench-maintenance"
	w, err := stack.StartWorker(queue, t.WorkerEnv(), "--task-queue", queue)
	if err != nil {
		return err
	}
	defer localstack.Terminate(w)
	conns, err := repository.NewConnections(repository.ClientOptions{Hostname: "bench-maintenance", Username: "corso", Dir: stack.Dir + "/bench-maintenance-repos"})
	if err != nil {
		return err
	}
	defer conns.Close(ctx)
	user := t.Info().Users[0]
	for _, scheduled := range []bool{false, true} {
		label, prefix := "without maintenance", "bench-no-maintenance"
		if scheduled {
			label, prefix = "quick maintenance every "+c.maintEvery.String(), "bench-maintenance"
		}
		a, err := newAdmin(stack, t, prefix, "--task-queue", queue)
		if err != nil {
			return err
		}
		if scheduled {
			r, err := a.run("repo", "maintenance", "--mode", "quick", "--every", c.maintEvery.String(), "--json")
			if err != nil {
				return err
			}
			var s struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal([]byte(r.Stdout), &s); err != nil {
				return fmt.Errorf("read the maintenance schedule: %w", err)
			}
			defer a.run("backup", "schedule", "delete", s.ID) //nolint:errcheck
		}
		if _, _, err := a.backup(user.UPN); err != nil {
			return err
		}
		var connects, incs []time.Duration
		for i := 1; i <= c.maintBackups; i++ {
			st, _ := t.State(graphsim.StateFilter{User: user.UPN, Category: "mail"})
			for _, it := range st.Items {
				if it.Kind == "message" {
					t.Mutate([]graphsim.MutateOp{{Op: "modify", ID: it.ID}})
					break
				}
			}
			conn, err := a.run("repo", "connect", "s3", "--bucket", "corso-test", "--prefix", prefix,
				"--endpoint", stack.Env["CORSO_S3_ENDPOINT"], "--disable-tls")
			if err != nil {
				return err
			}
			_, took, err := a.backup(user.UPN)
			if err != nil {
				return err
			}
			connects, incs = append(connects, conn.Took), append(incs, took)
			if i%50 == 0 {
				fmt.Fprintf(os.Stderr, "maintenance bench, %s: %d incremental backups\n", label, i)
			}
		}
		r, err := a.open(ctx, conns)
		if err != nil {
			return err
		}
		u, err := r.Usage(ctx)
		r.Release(ctx)
		if err != nil {
			return err
		}
		firstConnect, lastConnect := ends(connects)
		firstInc, lastInc := ends(incs)
		rep.add(fmt.Sprintf("%d incrementals, %s", c.maintBackups, label), fmt.Sprintf("%d index blobs, %d blobs (%.1f MiB); mean of the first and last %d: connect %s → %s, incremental %s → %s",
			u.IndexBlobs, u.Blobs, mib(u.Bytes), endSample, firstConnect.Round(time.Millisecond), lastConnect.Round(time.Millisecond),
			firstInc.Round(time.Millisecond), lastInc.Round(time.Millisecond)))
		ratio := lastInc.Seconds() / firstInc.Seconds()
		connRatio := lastConnect.Seconds() / firstConnect.Seconds()
		name := fmt.Sprintf("last / first %d incrementals and connects, %s", endSample, label)
		value := fmt.Sprintf("%.2f and %.2f", ratio, connRatio)
		if scheduled {
			rep.check(name, value, "<= 1.2", ratio <= 1.2 && connRatio <= 1.2)
		} else {
			rep.add(name, value)
		}
	}
	return nil
}

// endSample is how many runs at each end are averaged: one run is too
// noisy to compare on a shared machine.
const endSample = 10

// ends returns the mean of the first and of the last endSample durations.
func ends(ds []time.Duration) (first, last time.Duration) {
	n := min(endSample, len(ds))
	if n == 0 {
		return 0, 0
	}
	for i := range n {
		first += ds[i]
		last += ds[len(ds)-1-i]
	}
	return first / time.Duration(n), last / time.Duration(n)
}
