package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/localstack"
)

// groupsRun backs up one team of about c.channelMessages channel threads
// under Teams' documented rate limits, then changes a tenth of them and
// backs up again. It reports the full backup's throughput against the
// team's request ceiling and the incremental's Graph requests per change
// (target ≤ 1.2): a changed thread costs the request for its replies,
// its message coming with the delta page.
func groupsRun(rep *report, stack *localstack.Stack, c config) error {
	t, err := localstack.StartTenant(graphsim.Options{Tenant: graphsim.TenantOptions{
		Seed: 41, Users: 1, ItemsPerUser: 1, Groups: 1, Sites: -1, ItemsPerSite: 4 * c.channelMessages, Clean: true,
	}})
	if err != nil {
		return err
	}
	defer t.Close()
	queue := "bench-groups"
	w, err := stack.StartWorker(queue, t.WorkerEnv(), "--task-queue", queue)
	if err != nil {
		return err
	}
	defer localstack.Terminate(w)
	a, err := newAdmin(stack, t, "bench-groups", "--task-queue", queue)
	if err != nil {
		return err
	}
	team := t.Info().Groups[0]
	// teamsRequests counts the Teams requests served, by kind.
	teamsRequests := func() (int64, map[string]int64) {
		var n int64
		kinds := map[string]int64{}
		for class, byStatus := range t.Stats().Requests {
			if strings.HasPrefix(class, "teams.") {
				for _, v := range byStatus {
					n += v
					kinds[class] += v
				}
			}
		}
		return n, kinds
	}
	create := func() (backup.Summary, time.Duration, error) {
		r, err := a.run("backup", "create", "groups", "--group", team.ID, "--data", "messages", "--json")
		if err != nil {
			return backup.Summary{}, 0, err
		}
		bs, err := summaries(r.Stdout)
		if err == nil && (len(bs) != 1 || bs[0].Status != backup.StatusCompleted) {
			err = fmt.Errorf("backup of team %s: %+v", team.Name, bs)
		}
		if err != nil {
			return backup.Summary{}, 0, err
		}
		return bs[0], r.Took, nil
	}

	fmt.Fprintf(os.Stderr, "groups: full backup of a team of about %d channel threads\n", c.channelMessages)
	before, kindsBefore := teamsRequests()
	full, took, err := create()
	if err != nil {
		return err
	}
	after, kinds := teamsRequests()
	fullRequests := after - before
	var byKind []string
	for k, v := range kinds {
		if d := v - kindsBefore[k]; d > 0 {
			byKind = append(byKind, fmt.Sprintf("%s %d", strings.TrimPrefix(k, "teams."), d))
		}
	}
	slices.Sort(byKind)
	st, err := t.State(graphsim.StateFilter{Category: "channels", NoHashes: true})
	if err != nil {
		return err
	}
	var threads []graphsim.StateItem
	messages := 0
	for _, it := range st.Items {
		if it.ResourceID == team.ID && it.Kind != "hostedContent" {
			messages++
			if it.Kind == "channelMessage" {
				threads = append(threads, it)
			}
		}
	}
	secs := took.Seconds()
	rep.add("groups full backup", fmt.Sprintf("%d threads (%d messages with replies) in %s: %.1f threads/s, %.1f messages/s",
		full.Items, messages, took.Round(time.Second), float64(full.Items)/secs, float64(messages)/secs))
	rep.add("groups full backup requests", fmt.Sprintf("%d Teams requests, %.1f/s against the team's ceiling of 4/s, %d answered 429",
		fullRequests, float64(fullRequests)/secs, t.Stats().Throttled429))
	rep.add("groups full backup requests by kind", strings.Join(byKind, ", "))

	// A tenth of the threads change: new ones, edits and deletions.
	changes := max(len(threads)/10, 3)
	var ops []graphsim.MutateOp
	for i := 0; i < changes; i++ {
		it := threads[i%len(threads)]
		switch i % 3 {
		case 0:
			ops = append(ops, graphsim.MutateOp{Op: "add", Kind: "channelMessage", Team: team.ID, Channel: it.CollectionID})
		case 1:
			ops = append(ops, graphsim.MutateOp{Op: "modify", ID: it.ID, Team: team.ID, Channel: it.CollectionID})
		default:
			ops = append(ops, graphsim.MutateOp{Op: "delete", ID: it.ID, Team: team.ID, Channel: it.CollectionID})
		}
	}
	for _, r := range t.Mutate(ops) {
		if r.Error != "" {
			return fmt.Errorf("change the team: %s", r.Error)
		}
	}
	before, _ = teamsRequests()
	inc, took, err := create()
	if err != nil {
		return err
	}
	after, _ = teamsRequests()
	incRequests := after - before
	ratio := float64(incRequests) / float64(changes)
	detail, _ := json.Marshal(map[string]int64{"fetched": inc.Fetched, "items": inc.Items})
	rep.check("groups incremental requests per change", fmt.Sprintf("%.2f (%d requests for %d changes, %s, in %s)",
		ratio, incRequests, changes, detail, took.Round(time.Second)), "≤ 1.2", ratio <= 1.2)
	return nil
}
