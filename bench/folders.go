package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/localstack"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

var mailFolders = flag.Int("folders", 3000, "custom mail folders of the one mailbox of the "+onlyFolders+" section")

// foldersLimit bounds each backup of the folders section, so a run the
// old way (thousands of activities, or a payload Temporal refuses) ends
// with a figure rather than hanging the bench.
const foldersLimit = 20 * time.Minute

// foldersRun backs up one mailbox of -folders mail folders, two messages
// a folder on average, then changes a few messages and backs it up again.
// It reports each backup's time, checks that the details list every
// folder holding mail and every message the simulator has, and reports the
// largest payload and history of the two runs against the targets.
func foldersRun(rep *report, stack *localstack.Stack, c config) error {
	ctx := context.Background()
	if *mailFolders < 1 {
		return fmt.Errorf("-folders must be at least 1, got %d", *mailFolders)
	}
	fmt.Fprintf(os.Stderr, "folders: one mailbox of %d mail folders\n", *mailFolders)
	t, err := localstack.StartTenant(graphsim.Options{Tenant: graphsim.TenantOptions{
		Seed: 61, Users: 1, ItemsPerUser: 2 * *mailFolders, Groups: -1, Mix: graphsim.ItemMix{Mail: 1}, Clean: true,
		MailFolders: *mailFolders,
	}})
	if err != nil {
		return err
	}
	defer t.Close()
	const queue = "bench-folders"
	w, err := stack.StartWorker(queue, t.WorkerEnv(), "--task-queue", queue)
	if err != nil {
		return err
	}
	defer localstack.Terminate(w)
	a, err := newAdmin(stack, t, queue, "--task-queue", queue)
	if err != nil {
		return err
	}
	tc, err := dialTemporal(stack)
	if err != nil {
		return err
	}
	defer tc.Close()
	conns, err := repository.NewConnections(repository.ClientOptions{Hostname: "bench", Username: "corso", Dir: filepath.Join(stack.Dir, queue+"-repos")})
	if err != nil {
		return err
	}
	defer conns.Close(ctx)
	upn := t.Info().Users[0].UPN

	// The backups' runs are scanned before `backup details`, whose pages
	// are measured apart.
	var largest foldersHistories
	started := time.Now()
	full, took, err := foldersBackup(ctx, a, tc, upn)
	if err := largest.scan(ctx, stack, started); err != nil {
		return err
	}
	if err != nil {
		rep.check("folders full backup completes", err.Error(), "completed", false)
		largest.report(rep)
		return nil
	}
	rep.add("folders full backup", fmt.Sprintf("%d folders, %d items, %d bytes in %s",
		*mailFolders, full.Items, full.Bytes, took.Round(100*time.Millisecond)))
	if err := checkFoldersDetails(ctx, rep, a, conns, t, upn, full.BackupID, "full"); err != nil {
		return err
	}

	// A few changes: new messages in two folders, one edited, one deleted.
	st, err := t.State(graphsim.StateFilter{User: upn, Category: "mail", NoHashes: true})
	if err != nil {
		return err
	}
	if len(st.Items) < 2 {
		return fmt.Errorf("the mailbox holds %d messages, want 2+", len(st.Items))
	}
	ops := []graphsim.MutateOp{
		{Op: "add", Kind: "message", User: upn, Count: 3},
		{Op: "add", Kind: "message", User: upn, Parent: st.Items[len(st.Items)/2].CollectionID},
		{Op: "modify", ID: st.Items[0].ID},
		{Op: "delete", ID: st.Items[len(st.Items)-1].ID},
	}
	for _, r := range t.Mutate(ops) {
		if r.Error != "" {
			return fmt.Errorf("change the mailbox: %s", r.Error)
		}
	}
	incStarted := time.Now()
	inc, took, err := foldersBackup(ctx, a, tc, upn)
	if err := largest.scan(ctx, stack, incStarted); err != nil {
		return err
	}
	if err != nil {
		rep.check("folders incremental backup completes", err.Error(), "completed", false)
		largest.report(rep)
		return nil
	}
	rep.add("folders incremental backup", fmt.Sprintf("%d items (%d fetched) after %d changes in %s",
		inc.Items, inc.Fetched, len(ops)+3, took.Round(100*time.Millisecond)))
	if err := checkFoldersDetails(ctx, rep, a, conns, t, upn, inc.BackupID, "incremental"); err != nil {
		return err
	}
	largest.report(rep)

	// Every run since the start, `backup details` pages included.
	_, payload, payloadAt, _, _, err := scanHistories(ctx, stack, started)
	if err != nil {
		return err
	}
	rep.add("largest payload with backup details", fmt.Sprintf("%.1f KiB (%s)", float64(payload)/1024, payloadAt))
	return nil
}

// foldersBackup submits a backup of the mailbox and waits for it, at most
// foldersLimit.
func foldersBackup(ctx context.Context, a *admin, tc client.Client, upn string) (backup.Summary, time.Duration, error) {
	started := time.Now()
	workflowID, err := a.submit("backup", "create", "exchange", "--mailbox", upn, "--wait=false", "--json")
	if err != nil {
		return backup.Summary{}, 0, err
	}
	var res workflows.ExchangeBackupResult
	cutShort, err := waitWithin(ctx, tc, workflowID, foldersLimit, &res)
	took := time.Since(started)
	switch {
	case cutShort:
		_ = stopRequest(ctx, tc, workflowID)
		return backup.Summary{}, took, fmt.Errorf("not done after %s", foldersLimit)
	case err != nil:
		return backup.Summary{}, took, err
	}
	if len(res.Backups) != 1 || res.Backups[0].Status != backup.StatusCompleted {
		var why []string
		for _, b := range res.Backups {
			why = append(why, b.Status+": "+b.Error)
		}
		return backup.Summary{}, took, fmt.Errorf("backup after %s: %s", took.Round(time.Second), strings.Join(why, "; "))
	}
	return res.Backups[0], took, nil
}

// checkFoldersDetails checks that the backup's index names every folder
// of the mailbox, and its details list the simulator's every message in
// its folder.
func checkFoldersDetails(ctx context.Context, rep *report, a *admin, conns *repository.Connections, t *localstack.Tenant, upn, backupID, which string) error {
	r, err := a.run("backup", "details", "exchange", "--backup", backupID, "--json")
	if err != nil {
		return err
	}
	var out struct {
		Entries []backup.Entry `json:"entries"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		return fmt.Errorf("read details: %w", err)
	}
	st, err := t.State(graphsim.StateFilter{User: upn, Category: "mail", NoHashes: true})
	if err != nil {
		return err
	}
	want, got := map[string]int{}, map[string]int{} // messages by folder path
	folders := 0
	for _, it := range st.Items {
		switch it.Kind {
		case "message":
			want[strings.Join(it.Folders, "\x00")]++
		case "folder":
			folders++
		}
	}
	for _, e := range out.Entries {
		got[strings.Join(e.Path, "\x00")]++
	}
	repo, err := a.open(ctx, conns)
	if err != nil {
		return err
	}
	defer repo.Release(ctx)
	if err := repo.Refresh(ctx); err != nil {
		return err
	}
	b, err := repo.Backup(ctx, backupID)
	if err != nil {
		return err
	}
	idx, err := repo.Index(ctx, b)
	if err != nil {
		return err
	}
	mail := 0
	for _, c := range idx.Collections {
		if c.Category == string(m365.Email) {
			mail++
		}
	}
	rep.check("folders "+which+" index and details", fmt.Sprintf("%d mail folders in the backup's index, %d of them with %d messages in the details; the simulator has %d, %d of them with %d messages",
		mail, len(got), len(out.Entries), folders, len(want), messagesIn(want)), "the same",
		mail == folders && maps.Equal(got, want))
	return nil
}

func messagesIn(m map[string]int) (n int) {
	for _, v := range m {
		n += v
	}
	return n
}

// foldersHistories is the largest payload and history of the backups'
// runs.
type foldersHistories struct {
	runs, payload, history int
	payloadAt, historyAt   string
}

// scan reads the histories of the runs started since then.
func (h *foldersHistories) scan(ctx context.Context, stack *localstack.Stack, since time.Time) error {
	runs, payload, payloadAt, history, historyAt, err := scanHistories(ctx, stack, since)
	if err != nil {
		return err
	}
	h.runs += runs
	if payload > h.payload {
		h.payload, h.payloadAt = payload, payloadAt
	}
	if history > h.history {
		h.history, h.historyAt = history, historyAt
	}
	return nil
}

// report reports them against the tenant-scale targets.
func (h *foldersHistories) report(rep *report) {
	rep.check("largest payload of a backup of many folders", fmt.Sprintf("%.1f KiB (%s; %d runs scanned)", float64(h.payload)/1024, h.payloadAt, h.runs),
		"<= 512 KiB", h.payload <= scalePayloadTarget)
	rep.check("largest history of a backup of many folders", fmt.Sprintf("%d events (%s)", h.history, h.historyAt),
		"<= 10000", h.history <= scaleHistoryTarget)
}
