package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/repository"
)

// exchangeAdmin has a repository at its own prefix and the tenant's app.
type exchangeAdmin struct {
	admin
	prefix string
	sim    *simTenant
	extra  []string // flags added to every command, e.g. --task-queue
}

func newExchangeAdmin(t *testing.T, sim *simTenant, prefix string, extra ...string) exchangeAdmin {
	a := exchangeAdmin{admin: newAdmin(t, "exchange-"+prefix), prefix: prefix, sim: sim, extra: extra}
	mustSucceed(t, a.run(t, repoCmd("init", prefix)...))
	return a
}

func (a exchangeAdmin) run(t *testing.T, args ...string) result {
	t.Helper()
	args = append(append(args, a.extra...), "--config-file", a.config)
	return corso(t, a.sim.CLIEnv(a.passphrase), args...)
}

type createJSON struct {
	Workflow struct {
		WorkflowID string `json:"workflowID"`
	} `json:"workflow"`
	Backups []backup.Summary `json:"backups"`
}

func (a exchangeAdmin) backup(t *testing.T, mailboxes string) []backup.Summary {
	t.Helper()
	return a.create(t, "exchange", "--mailbox", mailboxes)
}

// create runs `backup create SERVICE args --json` and returns the backups.
func (a exchangeAdmin) create(t *testing.T, service string, args ...string) []backup.Summary {
	t.Helper()
	r := a.run(t, append([]string{"backup", "create", service, "--json"}, args...)...)
	mustSucceed(t, r)
	var out createJSON
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		t.Fatalf("parse: %v\n%s", err, r.Stdout)
	}
	return out.Backups
}

// stored reads a backup straight from the repository, as a worker would:
// category/path/item id → SHA-256 of the stored bytes.
func (a exchangeAdmin) stored(t *testing.T, backupID string) map[string]string {
	t.Helper()
	ctx := context.Background()
	r, idx := a.openBackup(t, backupID)
	out := map[string]string{}
	for _, c := range idx.Collections {
		ents, err := r.ReadDir(ctx, c.DirID)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			id, _ := url.PathUnescape(e.Name)
			rd, err := r.OpenItem(ctx, e.ObjectID.String())
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.New()
			_, err = io.Copy(h, rd)
			rd.Close()
			if err != nil {
				t.Fatal(err)
			}
			out[fmt.Sprintf("%s/%q/%s", c.Category, c.Path, id)] = hex.EncodeToString(h.Sum(nil))
		}
	}
	return out
}

// truth is the simulator's ground truth for a mailbox in the same shape.
func truth(t *testing.T, sim *simTenant, user string) map[string]string {
	t.Helper()
	st, err := sim.State(graphsim.StateFilter{User: user})
	if err != nil {
		t.Fatal(err)
	}
	cats := map[string]string{"mail": "email", "contacts": "contacts", "events": "events"}
	out := map[string]string{}
	for _, it := range st.Items {
		cat, ok := cats[it.Category]
		if !ok || it.Kind == "folder" {
			continue
		}
		out[fmt.Sprintf("%s/%q/%s", cat, it.Folders, it.ID)] = it.Hash
	}
	return out
}

func assertSameItems(t *testing.T, got, want map[string]string) {
	t.Helper()
	missing, extra, differ := 0, 0, 0
	for k, h := range want {
		g, ok := got[k]
		switch {
		case !ok:
			missing++
			if missing <= 3 {
				t.Errorf("missing from backup: %s", k)
			}
		case g != h:
			differ++
			if differ <= 3 {
				t.Errorf("content differs: %s", k)
			}
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			extra++
			if extra <= 3 {
				t.Errorf("in backup but not in the tenant: %s", k)
			}
		}
	}
	if missing+extra+differ > 0 {
		t.Fatalf("%d items: %d missing, %d extra, %d with other content", len(want), missing, extra, differ)
	}
}

// mailboxes lists the tenant's ordinary mailboxes, without the users that
// fail persistently (realtenant_test.go covers those).
func mailboxes(t *testing.T, sim *simTenant) []string {
	var out []string
	for _, u := range sim.Info().Users {
		if u.HasMailbox && u.Special == "" {
			out = append(out, u.UPN)
		}
	}
	if len(out) == 0 {
		t.Fatal("the simulated tenant has no mailbox")
	}
	return out
}

func byResource(bs []backup.Summary) map[string]backup.Summary {
	out := map[string]backup.Summary{}
	for _, b := range bs {
		out[b.ResourceName] = b
	}
	return out
}

func TestExchangeBackupMatchesTenantThroughChanges(t *testing.T) {
	a := newExchangeAdmin(t, tenant, "exchange-full")
	users := mailboxes(t, tenant)

	full := byResource(a.backup(t, strings.Join(users, ",")))
	if len(full) != len(users) {
		t.Fatalf("backed up %d mailboxes, tenant has %d", len(full), len(users))
	}
	for _, u := range users {
		b := full[u]
		if b.Status != backup.StatusCompleted || b.Items == 0 {
			t.Fatalf("%s: %+v", u, b)
		}
		assertSameItems(t, a.stored(t, b.BackupID), truth(t, tenant, u))
	}

	// Users change the first mailbox: add, modify, delete, move, rename.
	user := users[0]
	st, _ := tenant.State(graphsim.StateFilter{User: user, Category: "mail"})
	var msgs, folders []graphsim.StateItem
	for _, it := range st.Items {
		if it.Kind == "message" {
			msgs = append(msgs, it)
		} else if it.Kind == "folder" {
			folders = append(folders, it)
		}
	}
	res := tenant.Mutate([]graphsim.MutateOp{
		{Op: "add", Kind: "message", User: user, Count: 3},
		{Op: "modify", ID: msgs[0].ID},
		{Op: "delete", ID: msgs[1].ID},
		{Op: "move", ID: msgs[2].ID, To: folders[len(folders)-1].ID},
		{Op: "rename", ID: folders[0].ID, Name: "Renamed by e2e"},
		{Op: "add", Kind: "contact", User: user},
	})
	for _, r := range res {
		if r.Error != "" {
			t.Fatalf("mutate %s: %s", r.Op, r.Error)
		}
	}
	before := tenant.Stats().Fetched["message.mime"]
	inc := byResource(a.backup(t, user))[user]
	assertSameItems(t, a.stored(t, inc.BackupID), truth(t, tenant, user))
	after := tenant.Stats().Fetched["message.mime"]
	downloaded := 0
	for id, n := range after {
		downloaded += int(n - before[id])
	}
	// 3 added, 1 modified, 1 moved (a moved message has a new id).
	if downloaded != 5 {
		t.Errorf("incremental downloaded %d messages, want the 5 changed ones", downloaded)
	}
	if inc.Fetched > 7 {
		t.Errorf("incremental fetched %d items, want only changed ones", inc.Fetched)
	}

	// An expired delta token re-enumerates that collection only.
	if _, err := tenant.Expire(graphsim.ExpireRequest{Collection: folders[0].CollectionID}); err != nil {
		t.Fatal(err)
	}
	tenant.Mutate([]graphsim.MutateOp{{Op: "add", Kind: "message", User: user, Parent: folders[0].CollectionID}})
	reset := byResource(a.backup(t, user))[user]
	if len(reset.Resets) != 1 {
		t.Errorf("resets %v, want exactly the expired folder", reset.Resets)
	}
	if reset.Fetched != 1 {
		t.Errorf("after expiry fetched %d items, want 1 (unchanged ones are reused)", reset.Fetched)
	}
	assertSameItems(t, a.stored(t, reset.BackupID), truth(t, tenant, user))
}

func TestExchangeBackupListDetailsDelete(t *testing.T) {
	a := newExchangeAdmin(t, tenant, "exchange-admin")
	user := mailboxes(t, tenant)[1]
	b := a.backup(t, user)[0]

	var listed []backup.Summary
	r := a.run(t, "backup", "list", "exchange", "--json")
	mustSucceed(t, r)
	if err := json.Unmarshal([]byte(r.Stdout), &listed); err != nil || len(listed) != 1 || listed[0].BackupID != b.BackupID {
		t.Fatalf("list: %v %s", err, r.Stdout)
	}

	details := func(args ...string) []backup.Entry {
		t.Helper()
		r := a.run(t, append([]string{"backup", "details", "exchange", "--backup", b.BackupID, "--json"}, args...)...)
		mustSucceed(t, r)
		var out struct {
			Entries []backup.Entry `json:"entries"`
			Total   int            `json:"total"`
		}
		if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil || out.Total != len(out.Entries) {
			t.Fatalf("details: %v total %d", err, out.Total)
		}
		return out.Entries
	}
	all := details()
	if int64(len(all)) != b.Items {
		t.Fatalf("details list %d items, backup has %d", len(all), b.Items)
	}
	var subject string
	for _, e := range all {
		if e.Category == "email" && e.Subject != "" && e.Path[0] == "Inbox" {
			subject = e.Subject
			break
		}
	}
	inbox := details("--email-folder", "Inbox")
	for _, e := range inbox {
		if e.Category != "email" || e.Path[0] != "Inbox" {
			t.Fatalf("--email-folder Inbox selected %+v", e)
		}
	}
	if subject == "" || len(inbox) == 0 || len(inbox) >= len(all) {
		t.Fatalf("selectors: inbox %d of %d, subject %q", len(inbox), len(all), subject)
	}
	// --email-subject selects the messages whose subject holds it, as the
	// tenant has them (without regard to case).
	mail, _ := tenant.State(graphsim.StateFilter{User: user, Category: "mail", NoHashes: true})
	want := map[string]bool{}
	for _, it := range mail.Items {
		if it.Kind == "message" && strings.Contains(strings.ToLower(it.Name), strings.ToLower(subject)) {
			want[it.ID] = true
		}
	}
	bySubject := details("--email-subject", subject)
	for _, e := range bySubject {
		if !want[e.ItemID] {
			t.Errorf("--email-subject %q selected %q", subject, e.Subject)
		}
	}
	if len(bySubject) != len(want) {
		t.Fatalf("--email-subject %q selected %d messages, the tenant has %d", subject, len(bySubject), len(want))
	}
	// Events' details come from the events themselves: Graph's event
	// delta gives only their id, type, start and end.
	events, _ := tenant.State(graphsim.StateFilter{User: user, Category: "events", NoHashes: true})
	var event graphsim.StateItem
	for _, it := range events.Items {
		if it.Kind == "event" && it.Name != "" {
			event = it
			break
		}
	}
	found := false
	for _, e := range details("--event-subject", event.Name) {
		found = found || e.ItemID == event.ID && e.Subject == event.Name && strings.Contains(e.Organizer, "@")
	}
	if !found {
		t.Fatalf("no event details with subject %q and an organizer", event.Name)
	}

	mustSucceed(t, a.run(t, "backup", "delete", "exchange", "--backup", b.BackupID))
	r = a.run(t, "backup", "list", "exchange", "--json")
	mustSucceed(t, r)
	if strings.Contains(r.Stdout, b.BackupID) {
		t.Fatalf("deleted backup still listed: %s", r.Stdout)
	}
	mustFail(t, a.run(t, "backup", "details", "exchange", "--backup", b.BackupID), 20*time.Second, "no backup with id "+b.BackupID)
}

func TestExchangeBackupBadInput(t *testing.T) {
	a := newExchangeAdmin(t, tenant, "exchange-bad-input")
	user := mailboxes(t, tenant)[0]
	t.Run("unknown mailbox", func(t *testing.T) {
		mustFail(t, a.run(t, "backup", "create", "exchange", "--mailbox", "nobody@contoso.onmicrosoft.com"), 30*time.Second, "nobody@contoso.onmicrosoft.com")
	})
	t.Run("no mailbox flag", func(t *testing.T) {
		mustFail(t, a.run(t, "backup", "create", "exchange"), 5*time.Second, "--mailbox is required")
	})
	t.Run("bad data category", func(t *testing.T) {
		mustFail(t, a.run(t, "backup", "create", "exchange", "--mailbox", user, "--data", "mail"), 5*time.Second, `unknown data category "mail"`)
	})
	t.Run("bad selector", func(t *testing.T) {
		mustFail(t, a.run(t, "backup", "details", "exchange", "--backup", "x", "--email-received-after", "yesterday"), 5*time.Second, "--email-received-after")
	})
	t.Run("wrong passphrase", func(t *testing.T) {
		r := corso(t, tenant.CLIEnv("not-the-passphrase"), "backup", "create", "exchange", "--mailbox", user, "--config-file", a.config)
		mustFail(t, r, 30*time.Second, "wrong passphrase")
	})
	t.Run("no repository connected", func(t *testing.T) {
		r := corso(t, tenant.CLIEnv(a.passphrase), "backup", "list", "exchange", "--config-file", t.TempDir()+"/none.toml")
		mustFail(t, r, 5*time.Second, "no repository connected")
	})
	t.Run("wrong app secret", func(t *testing.T) {
		env := tenant.CLIEnv(a.passphrase)
		env["AZURE_CLIENT_SECRET"] = "wrong"
		r := corso(t, env, "backup", "create", "exchange", "--mailbox", user, "--config-file", a.config)
		mustFail(t, r, 30*time.Second, "Microsoft Graph refused the app")
	})
	t.Run("missing app credentials", func(t *testing.T) {
		env := tenant.CLIEnv(a.passphrase)
		env["AZURE_CLIENT_ID"] = ""
		r := corso(t, env, "backup", "create", "exchange", "--mailbox", user, "--config-file", a.config)
		mustFail(t, r, 5*time.Second, "AZURE_CLIENT_ID")
	})
}

// openBackup opens the admin's repository straight, as a worker would, and
// reads a backup's index; the repository is released when the test ends.
func (a exchangeAdmin) openBackup(t *testing.T, backupID string) (*repository.Repository, repository.BackupIndex) {
	t.Helper()
	r := a.openRepository(t)
	b, err := r.Backup(context.Background(), backupID)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := r.Index(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	return r, idx
}
