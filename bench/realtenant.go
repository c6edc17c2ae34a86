package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/localstack"
)

// realTenantRun backs up the same tenant twice, once clean and once with
// the persistent faults of a real tenant (users without a mailbox, a
// mailbox an access policy hides, one over its quota, items Exchange can
// never serve), and compares the full backup's throughput.
func realTenantRun(rep *report, stack *localstack.Stack, c config) error {
	rates := map[bool]float64{}
	for _, clean := range []bool{true, false} {
		name := map[bool]string{true: "clean", false: "faults"}[clean]
		t, err := localstack.StartTenant(graphsim.Options{Tenant: graphsim.TenantOptions{
			Seed: 1, Users: c.users, ItemsPerUser: c.items, Mix: graphsim.ItemMix{Mail: 0.7, Contacts: 0.15, Events: 0.15}, Clean: clean,
		}})
		if err != nil {
			return err
		}
		defer t.Close()
		q := "bench-real-" + name
		w, err := stack.StartWorker(q, t.WorkerEnv(), "--task-queue", q)
		if err != nil {
			return err
		}
		defer localstack.Terminate(w)
		a, err := newAdmin(stack, t, q, "--task-queue", q)
		if err != nil {
			return err
		}
		// With faults on, the mailbox an access policy hides fails alone
		// and the CLI exits non-zero; its output still has every backup.
		r, _ := a.run("backup", "create", "exchange", "--mailbox", "*", "--json")
		var out struct {
			Backups []backup.Summary `json:"backups"`
			LeftOut []backup.LeftOut `json:"leftOut"`
		}
		if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
			return fmt.Errorf("real-tenant run (%s): %v: %s", name, err, r.Stderr)
		}
		var items, failed, skipped int64
		for _, b := range out.Backups {
			if b.Status != backup.StatusCompleted {
				failed++
				continue
			}
			items += b.Items
			skipped += b.Skipped
		}
		rates[clean] = float64(items) / r.Took.Seconds()
		fmt.Fprintf(os.Stderr, "  %s: %d items in %s; slowest: %s\n", name, items, r.Took.Round(time.Millisecond), slowest(out.Backups, 3))
		rep.add("full backup, real-tenant faults "+map[bool]string{true: "off", false: "on"}[clean],
			fmt.Sprintf("%d items in %s (%.0f items/s); %d mailboxes failed, %d left out, %d items skipped",
				items, r.Took.Round(time.Millisecond), rates[clean], failed, len(out.LeftOut), skipped))
	}
	ratio := rates[false] / rates[true]
	rep.check("full backup rate, faults on / off", fmt.Sprintf("%.2f", ratio), ">= 0.9", ratio >= 0.9)
	return nil
}

// slowest names the n backups that took longest, with their durations:
// the request ends with the last of them.
func slowest(bs []backup.Summary, n int) string {
	sorted := append([]backup.Summary(nil), bs...)
	sort.Slice(sorted, func(i, j int) bool {
		return sorted[i].Completed.Sub(sorted[i].Started) > sorted[j].Completed.Sub(sorted[j].Started)
	})
	var parts []string
	for _, b := range sorted[:min(n, len(sorted))] {
		parts = append(parts, fmt.Sprintf("%s %s (%d items)", b.ResourceName, b.Completed.Sub(b.Started).Round(10*time.Millisecond), b.Items))
	}
	return strings.Join(parts, ", ")
}
