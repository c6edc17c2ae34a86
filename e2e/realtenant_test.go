package e2e

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/graphsim"
)

// A real tenant fails persistently, on one resource: users without a
// licence or a mailbox, a mailbox an access policy hides, one over its
// quota, items Exchange can never serve. The simulated tenants hold each of
// these (graphsim's Expected says what a correct backup does with them);
// these tests run the product on them as an admin's first run would.

// expectations is the simulator's ground truth for one service:
// resource id → cause, by outcome, and item id → cause for skipped items.
type expectations struct {
	leftOut, failed, backedUp map[string]string
	// resource id → item id → cause: items left out, and items backed up
	// with a warning.
	skipped, warned map[string]map[string]string
}

func expectationsOf(t *testing.T, sim *simTenant, service string) expectations {
	t.Helper()
	st, err := sim.State(graphsim.StateFilter{NoHashes: true})
	if err != nil {
		t.Fatal(err)
	}
	x := expectations{leftOut: map[string]string{}, failed: map[string]string{}, backedUp: map[string]string{},
		skipped: map[string]map[string]string{}, warned: map[string]map[string]string{}}
	item := func(m map[string]map[string]string, e graphsim.Expectation) {
		if m[e.ResourceID] == nil {
			m[e.ResourceID] = map[string]string{}
		}
		m[e.ResourceID][e.ItemID] = e.Cause
	}
	for _, e := range st.Expected {
		if e.Service != service {
			continue
		}
		switch e.Outcome {
		case graphsim.OutcomeNotBackedUp:
			x.leftOut[e.ResourceID] = e.Cause
		case graphsim.OutcomeFailed:
			x.failed[e.ResourceID] = e.Cause
		case graphsim.OutcomeBackedUp:
			if e.ItemID != "" {
				item(x.warned, e)
			} else {
				x.backedUp[e.ResourceID] = e.Cause
			}
		case graphsim.OutcomeSkipped:
			item(x.skipped, e)
		}
	}
	return x
}

// createOutput is `backup create --json`, whatever its exit code.
type createOutput struct {
	Backups []backup.Summary `json:"backups"`
	LeftOut []backup.LeftOut `json:"leftOut"`
}

func parseCreate(t *testing.T, r result) createOutput {
	t.Helper()
	var out createOutput
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		t.Fatalf("parse: %v\nstdout: %s\nstderr: %s", err, r.Stdout, r.Stderr)
	}
	return out
}

func TestExchangeStarCompletesOnARealTenant(t *testing.T) {
	a := newExchangeAdmin(t, tenant, "real-tenant")
	x := expectationsOf(t, tenant, "exchange")
	if len(x.leftOut) < 4 || len(x.failed) == 0 || len(x.backedUp) == 0 || len(x.skipped) == 0 || len(x.warned) == 0 {
		t.Fatalf("the tenant should hold every kind of persistent fault: %+v", x)
	}
	info := tenant.Info()
	upn := map[string]string{}
	for _, u := range info.Users {
		upn[u.ID] = u.UPN
	}

	r := a.run(t, "backup", "create", "exchange", "--mailbox", "*", "--json")
	out := parseCreate(t, r)

	// Users with nothing to back up are reported, each with its cause, and
	// are not failures.
	gotLeftOut := map[string]string{}
	for _, l := range out.LeftOut {
		gotLeftOut[l.ResourceID] = l.Cause
		if l.Reason == "" || l.Resource != upn[l.ResourceID] {
			t.Errorf("left out without a reason or name: %+v", l)
		}
	}
	assertSameMap(t, "left out", gotLeftOut, x.leftOut)

	// Every mailbox has a backup; the one an access policy hides fails
	// alone, saying why, and the run exits non-zero naming it.
	byID := map[string]backup.Summary{}
	for _, b := range out.Backups {
		byID[idOfUPN(upn, b.Resource)] = b
	}
	for _, u := range info.Users {
		if _, out := x.leftOut[u.ID]; out || !u.HasMailbox {
			if _, ok := byID[u.ID]; ok {
				t.Errorf("%s has no mailbox but was backed up", u.UPN)
			}
			continue
		}
		b, ok := byID[u.ID]
		if !ok {
			t.Errorf("%s: no backup", u.UPN)
			continue
		}
		if _, fails := x.failed[u.ID]; fails {
			if b.Status != backup.StatusFailed || !strings.Contains(strings.ToLower(b.Error), "access") {
				t.Errorf("%s: %s %q, want a failure naming the access denial", u.UPN, b.Status, b.Error)
			}
			continue
		}
		if b.Status != backup.StatusCompleted {
			t.Errorf("%s: %s: %s", u.UPN, b.Status, b.Error)
			continue
		}
		assertSameItems(t, a.stored(t, b.BackupID), truth(t, tenant, u.UPN))
	}
	if r.Code == 0 {
		t.Error("a mailbox failed but the run exited 0")
	}
	for id := range x.failed {
		if !strings.Contains(r.Stderr, upn[id]) && !strings.Contains(r.Stderr, byID[id].ResourceName) {
			t.Errorf("the run's error does not name %s: %s", upn[id], r.Stderr)
		}
	}

	// Transient answers real Graph gives were met and got past: the quirky
	// mailbox's first GETs of a message and an event (empty 404s), and
	// the token the tenant revokes after its first 200 requests.
	st := tenant.Stats()
	if st.Faults["transient404"] < 2 || st.TotalRequests > 300 && st.Faults["revokedToken"] != 1 {
		t.Errorf("transient faults met: %v after %d requests", st.Faults, st.TotalRequests)
	}

	// The mailbox over its quota was listed instead of enumerated by delta.
	for id := range x.backedUp {
		if b := byID[id]; len(b.Listed) == 0 {
			t.Errorf("%s: backed up without saying its folders were listed: %+v", upn[id], b)
		}
	}

	// Items Exchange can never serve are reported with exactly their
	// cause, and those it serves only in part (a series without its
	// exceptions) are backed up with a warning.
	for id := range mergeKeys(x.skipped, x.warned) {
		b := byID[id]
		skipped, warned := a.skippedItems(t, "exchange", b.BackupID)
		assertSameMap(t, upn[id]+" skipped items", skipped, x.skipped[id])
		assertSameMap(t, upn[id]+" items kept with a warning", warned, x.warned[id])
		if b.Warnings != int64(len(x.warned[id])) {
			t.Errorf("%s: %d warnings, want %d", upn[id], b.Warnings, len(x.warned[id]))
		}
	}

	// The quota mailbox after churn: listed again, still the tenant's.
	for id := range x.backedUp {
		st, _ := tenant.State(graphsim.StateFilter{User: id, Category: "mail"})
		var msg graphsim.StateItem
		for _, it := range st.Items {
			if it.Kind == "message" {
				msg = it
				break
			}
		}
		for _, res := range tenant.Mutate([]graphsim.MutateOp{
			{Op: "add", Kind: "message", User: id, Count: 2},
			{Op: "delete", ID: msg.ID},
		}) {
			if res.Error != "" {
				t.Fatalf("mutate: %s", res.Error)
			}
		}
		inc := a.create(t, "exchange", "--mailbox", upn[id])
		if len(inc) != 1 || inc[0].Status != backup.StatusCompleted {
			t.Fatalf("incremental: %+v", inc)
		}
		assertSameItems(t, a.stored(t, inc[0].BackupID), truth(t, tenant, upn[id]))
	}
}

func idOfUPN(upn map[string]string, name string) string {
	for id, u := range upn {
		if strings.EqualFold(u, name) {
			return id
		}
	}
	return name
}

func assertSameMap(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	var diff []string
	for k := range keys {
		if got[k] != want[k] {
			diff = append(diff, k+": got "+quote(got[k])+", want "+quote(want[k]))
		}
	}
	sort.Strings(diff)
	if len(diff) > 0 {
		t.Errorf("%s differ:\n  %s", what, strings.Join(diff, "\n  "))
	}
}

func quote(s string) string {
	if s == "" {
		return "nothing"
	}
	return `"` + s + `"`
}

// skippedItems runs `backup details SERVICE --skipped-items --json`:
// item id → cause of the items left out, and of those kept with a
// warning.
func (a exchangeAdmin) skippedItems(t *testing.T, service, backupID string) (skipped, warned map[string]string) {
	t.Helper()
	d := a.run(t, "backup", "details", service, "--backup", backupID, "--skipped-items", "--json")
	mustSucceed(t, d)
	var pr struct {
		Skipped  []backup.ItemError `json:"skipped"`
		Warnings []backup.ItemError `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(d.Stdout), &pr); err != nil {
		t.Fatal(err)
	}
	skipped, warned = map[string]string{}, map[string]string{}
	for _, e := range pr.Skipped {
		skipped[e.ItemID] = e.Cause
	}
	for _, e := range pr.Warnings {
		warned[e.ItemID] = e.Cause
	}
	return skipped, warned
}

// driveStarOnARealTenant backs up every user's OneDrive or every site and
// checks each outcome against the simulator's ground truth.
func driveStarOnARealTenant(t *testing.T, service, flag string) {
	a := newExchangeAdmin(t, tenant, service+"-real-tenant")
	x := expectationsOf(t, tenant, service)
	if len(x.skipped) == 0 || len(x.warned) == 0 || service == "onedrive" && len(x.leftOut) < 3 {
		t.Fatalf("the tenant should hold every kind of persistent fault: %+v", x)
	}
	r := a.run(t, "backup", "create", service, "--"+flag, "*", "--json")
	mustSucceed(t, r)
	out := parseCreate(t, r)

	gotLeftOut := map[string]string{}
	for _, l := range out.LeftOut {
		gotLeftOut[l.ResourceID] = l.Cause
	}
	assertSameMap(t, "left out", gotLeftOut, x.leftOut)

	backedUp := map[string]bool{}
	for _, b := range out.Backups {
		if b.Status != backup.StatusCompleted {
			t.Errorf("%s: %s %s", b.ResourceName, b.Status, b.Error)
			continue
		}
		backedUp[b.Resource] = true
		got := a.storedFiles(t, b.BackupID)
		if service == "sharepoint" {
			assertSameItems(t, got, siteTruth(t, tenant, b.Resource))
		} else {
			trimmed := map[string]string{}
			for k, h := range got {
				_, rest, _ := strings.Cut(k, "/") // the drive's name
				trimmed["/"+rest] = h
			}
			assertSameItems(t, trimmed, driveTruth(t, tenant, b.Resource, ""))
		}

		skipped, warned := a.skippedItems(t, service, b.BackupID)
		assertSameMap(t, b.ResourceName+" skipped items", skipped, x.skipped[b.Resource])
		assertSameMap(t, b.ResourceName+" files kept with a warning", warned, x.warned[b.Resource])
		if b.Warnings != int64(len(x.warned[b.Resource])) {
			t.Errorf("%s: %d warnings, want %d", b.ResourceName, b.Warnings, len(x.warned[b.Resource]))
		}
	}
	for id := range x.skipped {
		if !backedUp[id] {
			t.Errorf("%s holds unreadable files but was not backed up", id)
		}
	}
}

// mergeKeys is the set of resources either map names.
func mergeKeys(a, b map[string]map[string]string) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

func TestOneDriveStarCompletesOnARealTenant(t *testing.T) {
	driveStarOnARealTenant(t, "onedrive", "user")
	// The quirky OneDrive's delta answered 400 invalidRequest once.
	if n := tenant.Stats().Faults["transient400"]; n != 1 {
		t.Errorf("transient 400s met: %d", n)
	}
}

func TestSharePointStarCompletesOnARealTenant(t *testing.T) {
	driveStarOnARealTenant(t, "sharepoint", "site")
}
