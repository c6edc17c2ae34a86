package graph

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/m365"
)

// driveTenant is the tenant of the drive tests: users 1 and 4 are guests
// (no drive), the others have one; user 0's drive holds an 11 MB file and
// the first site's library two of about 30 MB.
var driveTenant = graphsim.TenantOptions{Seed: 10, Users: 6, ItemsPerUser: 150, ItemsPerSite: 60, MaxFileSize: 40 << 20}

// newDriveEnv starts a simulator of tenant, optionally behind wrap, with
// mod applied to its options.
func newDriveEnv(t *testing.T, tenant graphsim.TenantOptions, wrap func(http.Handler) http.Handler, mod func(*graphsim.Options)) *env {
	t.Helper()
	clock := graphsim.NewManualClock(time.Date(2025, 7, 1, 12, 0, 0, 0, time.UTC))
	opts := graphsim.Options{Tenant: tenant, ClientID: simClient, ClientSecret: simSecret, Clock: clock}
	if mod != nil {
		mod(&opts)
	}
	sim := graphsim.New(opts)
	h := sim.Handler()
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		_ = sim.Close()
	})
	return &env{t: t, sim: sim, srv: srv, clock: clock, info: sim.Info()}
}

// driveState is the ground truth of one drive.
func (e *env) driveState(driveID string) []graphsim.StateItem {
	e.t.Helper()
	st, err := e.sim.State(graphsim.StateFilter{Category: "files"})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []graphsim.StateItem
	for _, it := range st.Items {
		if it.CollectionID == driveID {
			out = append(out, it)
		}
	}
	if len(out) == 0 {
		e.t.Fatalf("no drive %s in the state", driveID)
	}
	return out
}

// driveDelta follows a delta round of a drive from link to its deltaLink.
func driveDelta(t *testing.T, c *Client, driveID, link string) (items []DriveItem, deltaLink string, pages int) {
	t.Helper()
	for {
		p, err := c.DriveDeltaPage(context.Background(), driveID, link)
		if err != nil {
			t.Fatalf("delta of drive %s: %v", driveID, err)
		}
		pages++
		items = append(items, p.Items...)
		if p.DeltaLink != "" {
			return items, p.DeltaLink, pages
		}
		link = p.NextLink
	}
}

// tree is a drive as delta rounds report it: the last word on each item.
type tree map[string]DriveItem

func (tr tree) apply(items []DriveItem) {
	for _, it := range items {
		if it.Deleted {
			delete(tr, it.ID)
			continue
		}
		tr[it.ID] = it
	}
}

// dir is the path of an item's folder below the root, as the state names
// it.
func (tr tree) dir(it DriveItem) string {
	var names []string
	for p, ok := tr[it.ParentID]; ok && !p.Root; p, ok = tr[p.ParentID] {
		names = append(names, p.Name)
		if len(names) > 64 {
			break
		}
	}
	slices.Reverse(names)
	return strings.Join(names, "/")
}

// checkTree compares a tree with the ground truth.
func checkTree(t *testing.T, tr tree, truth []graphsim.StateItem) {
	t.Helper()
	if len(tr) != len(truth) {
		t.Errorf("%d items, the drive has %d", len(tr), len(truth))
	}
	roots := 0
	for _, want := range truth {
		got, ok := tr[want.ID]
		if !ok {
			t.Errorf("%s %q (in %q) not reported", want.Kind, want.Name, want.Path)
			continue
		}
		if got.Root {
			roots++
			if got.ParentID != "" || !got.Folder || want.Path != "" {
				t.Errorf("root: %+v", got)
			}
			continue
		}
		if got.Name != want.Name || got.Folder != (want.Kind == "folder") || tr.dir(got) != want.Path {
			t.Errorf("%s: %q folder=%v in %q, want %s %q in %q", want.ID, got.Name, got.Folder, tr.dir(got), want.Kind, want.Name, want.Path)
		}
		if want.Kind == "file" && (got.Size != want.Size || got.QuickXorHash != want.QuickXorHash) {
			t.Errorf("%q: size %d hash %s, want %d %s", want.Name, got.Size, got.QuickXorHash, want.Size, want.QuickXorHash)
		}
		if want.Kind == "file" && (got.CTag == "" || got.Modified.IsZero() || got.Created.IsZero() || got.CreatedBy == "") {
			t.Errorf("%q: missing details %+v", want.Name, got)
		}
	}
	if roots != 1 {
		t.Errorf("%d roots", roots)
	}
}

func TestQuickXorHash(t *testing.T) {
	// Published vectors (as rclone's tests use them): input and hash,
	// base64.
	vectors := []struct{ in, out string }{
		{``, "AAAAAAAAAAAAAAAAAAAAAAAAAAA="},
		{`Sg==`, "SgAAAAAAAAAAAAAAAQAAAAAAAAA="},
		{`tbQ=`, "taAFAAAAAAAAAAAAAgAAAAAAAAA="},
		{`/aNzzCFPS/A=`, "/RjFHJgRgicsAR4ACAAAAAAAAAA="},
		{`2fuxhBJXtpWFe8dOfdGeHw==`, "O9tHLAghgSvYohKFyMMxnNCHaHg="},
		{`T6LYJIfDh81JrAK309H2JMJTXis=`, "zBTHrspn3mEcohlJdIUAbjGNaNg="},
		{"Mb7EGva2rEE5fENDL85P+BsapHEEjv2/siVhKjvAQe02feExVOQSkfmuYzU/kTF1MaKjPmKF/w+cbvwfdWL8aQ==", "n1anP5NfvD4XDYWIeRPW3ZkPv1Y="},
		{"PfxMcUd0vIW6VbHG/uj/Y0W6qEoKmyBD0nYebEKazKaKG+UaDqBEcmQjbfQeVnVLuodMoPp7P7TR1htX5n2VnkHh22xDyoJ8C/ZQKiSNqQfXvh83judf4RVr9exJCud8Uvgip6aVZTaPrJHVjQhMCp/dEnGvqg0oN5OVkM2qqAXvA0teKUDhgNM71sDBVBCGXxNOR2bpbD1iM4dnuT0ey4L+loXEHTL0fqMeUcEi2asgImnlNakwenDzz0x57aBwyq3AspCFGB1ncX4yYCr/OaCcS5OKi/00WH+wNQU3", "QX/YEpG0gDsmhEpCdWhsxDzsfVE="},
		{"w0LGhqU1WXFbdavqDE4kAjEzWLGGzmTNikzqnsiXHx2KRReKVTxkv27u3UcEz9+lbMvYl4xFf2Z4aE1xRBBNd1Ke5C0zToSaYw5o4B/7X99nKK2/XaUX1byLow2aju2XJl2OpKpJg+tSJ2fmjIJTkfuYUz574dFX6/VXxSxwGH/xQEAKS5TCsBK3CwnuG1p5SAsQq3gGVozDWyjEBcWDMdy8/AIFrj/y03Lfc/RNRCQTAfZbnf2QwV7sluw4fH3XJr07UoD0YqN+7XZzidtrwqMY26fpLZnyZjnBEt1FAZWO7RnKG5asg8xRk9YaDdedXdQSJAOy6bWEWlABj+tVAigBxavaluUH8LOj+yfCFldJjNLdi90fVHkUD/m4Mr5OtmupNMXPwuG3EQlqWUVpQoYpUYKLsk7a5Mvg6UFkiH596y5IbJEVCI1Kb3D1", "e3+wo77iKcILiZegnzyUNcjCdoQ="},
	}
	for _, v := range vectors {
		in, err := base64.StdEncoding.DecodeString(v.in)
		if err != nil {
			t.Fatal(err)
		}
		for _, block := range []int{1, 3, 7, 64, 159, 160, 161, 1000} {
			h := NewQuickXorHash()
			for i := 0; i < len(in); i += block {
				n, err := h.Write(in[i:min(i+block, len(in))])
				if err != nil || n != min(block, len(in)-i) {
					t.Fatalf("Write: %d, %v", n, err)
				}
			}
			if got := h.Base64(); got != v.out {
				t.Errorf("%d bytes in blocks of %d: %s, want %s", len(in), block, got, v.out)
			}
		}
	}
	// The simulator's implementation agrees on larger and odd inputs, in
	// any split.
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{159, 160, 161, 320, 4095, 65536 + 17, 1 << 20} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		h := NewQuickXorHash()
		for rest := data; len(rest) > 0; {
			k := min(len(rest), 1+r.IntN(5000))
			_, _ = h.Write(rest[:k])
			rest = rest[k:]
		}
		if got, want := h.Base64(), graphsim.QuickXorBase64(data); got != want {
			t.Errorf("%d bytes: %s, simulator %s", n, got, want)
		}
		if h.Size() != 20 || len(h.Sum(nil)) != 20 {
			t.Error("size")
		}
		h.Reset()
		if h.Base64() != "AAAAAAAAAAAAAAAAAAAAAAAAAAA=" {
			t.Error("Reset")
		}
	}
}

func TestResolveOneDrives(t *testing.T) {
	e := newDriveEnv(t, driveTenant, nil, nil)
	c := e.client(nil)
	ctx := context.Background()
	var want []Drive
	wantOut := map[string]m365.Cause{}
	var locked, guest graphsim.InfoUser
	for _, u := range e.info.Users {
		switch {
		case u.Special == "lockeddrive":
			locked, wantOut[u.UPN] = u, m365.CauseLocked
		case !u.HasDrive:
			wantOut[u.UPN] = m365.CauseNoDrive
			if u.Special == "guest" {
				guest = u
			}
		default:
			want = append(want, Drive{ID: u.DriveID, Name: "OneDrive", Service: m365.OneDrive, Owner: u.ID, OwnerName: u.UPN})
		}
	}
	if len(want) < 2 || locked.ID == "" || guest.ID == "" {
		t.Fatalf("tenant: %d users with a drive, locked %q, guest %q", len(want), locked.UPN, guest.UPN)
	}
	all, none, err := c.ResolveDrives(ctx, m365.OneDrive, []string{"*"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(all, want) {
		t.Errorf("*: %+v\nwant %+v", all, want)
	}
	// Users without a drive (guests, unlicensed: 404 "User's mysite not
	// found") and the locked one (423) are left out, each with its cause.
	gotOut := map[string]m365.Cause{}
	for _, lo := range none {
		gotOut[lo.Resource] = m365.Cause(lo.Cause)
		if lo.ResourceID == "" || lo.Reason != m365.Cause(lo.Cause).Describe() {
			t.Errorf("left out: %+v", lo)
		}
	}
	if !maps.Equal(gotOut, wantOut) {
		t.Errorf("left out %v, want %v", gotOut, wantOut)
	}

	// Named by UPN and by id, in the order given, without duplicates.
	u0, u3 := e.user(0), e.user(3)
	named, none, err := c.ResolveDrives(ctx, m365.OneDrive, []string{u3.UPN, u0.ID, u3.ID, " "})
	if err != nil {
		t.Fatal(err)
	}
	if len(named) != 2 || named[0].ID != u3.DriveID || named[1].ID != u0.DriveID || named[0].OwnerName != u3.UPN || len(none) != 0 {
		t.Errorf("named: %+v, %+v", named, none)
	}

	// Named users with nothing to back up fail together, each with its
	// cause.
	_, _, err = c.ResolveDrives(ctx, m365.OneDrive, []string{u0.UPN, "nobody@contoso.onmicrosoft.com", guest.ID, locked.UPN})
	if !errors.Is(err, ErrUnknownResource) {
		t.Fatalf("named without a drive: %v", err)
	}
	for _, w := range []string{`"nobody@contoso.onmicrosoft.com" (no such user)`, guest.ID + `" (` + m365.CauseNoDrive.Describe(),
		locked.UPN + `" (` + m365.CauseLocked.Describe()} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %s", err, w)
		}
	}
	if _, _, err := c.ResolveDrives(ctx, "exchange", []string{"*"}); err == nil {
		t.Error("unknown service accepted")
	}
}

// answerDrives answers GET users/{id}/drive itself when answer gives a
// status for the user.
func answerDrives(answer func(user string) (int, string)) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
			if len(segs) == 4 && segs[1] == "users" && segs[3] == "drive" {
				if status, body := answer(segs[2]); status != 0 {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(status)
					_, _ = io.WriteString(w, body)
					return
				}
			}
			h.ServeHTTP(w, r)
		})
	}
}

// One OneDrive denied to the app (403, as SharePoint answers for a drive
// whose permissions exclude the app) does not fail "*": it is marked, for
// its own backup to fail. Every OneDrive denied means the app lacks
// consent.
func TestResolveOneDrivesDenied(t *testing.T) {
	var denied atomic.Value
	denied.Store("")
	e := newDriveEnv(t, driveTenant, answerDrives(func(u string) (int, string) {
		if d := denied.Load().(string); d == "*" || strings.EqualFold(u, d) {
			return http.StatusForbidden, `{"error":{"code":"accessDenied","message":"Access denied"}}`
		}
		return 0, ""
	}), nil)
	c := e.client(nil)
	ctx := context.Background()
	u0 := e.user(0)
	denied.Store(u0.ID)
	all, none, err := c.ResolveDrives(ctx, m365.OneDrive, []string{"*"})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 2 || slices.ContainsFunc(all, func(d Drive) bool { return d.Owner == u0.ID }) {
		t.Errorf("drives: %+v", all)
	}
	i := slices.IndexFunc(none, func(lo backup.LeftOut) bool { return lo.ResourceID == u0.ID })
	if i < 0 || none[i].Cause != string(m365.CauseAccessDenied) || !strings.Contains(none[i].Reason, "403 accessDenied") {
		t.Errorf("denied user: %+v", none)
	}

	denied.Store("*")
	_, _, err = c.ResolveDrives(ctx, m365.OneDrive, []string{"*"})
	if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "admin consent") {
		t.Errorf("every drive denied: %v", err)
	}
}

// How users without a OneDrive are told from failures: by Graph's answer,
// not by its status alone.
func TestResolveOneDriveAnswers(t *testing.T) {
	var status atomic.Int64
	var body atomic.Value
	e := newDriveEnv(t, driveTenant, answerDrives(func(string) (int, string) {
		return int(status.Load()), body.Load().(string)
	}), nil)
	c := e.client(nil)
	for _, tc := range []struct {
		status int
		body   string
		cause  m365.Cause // "" for a failure of the resolution
	}{
		// Corso's graph/errors.go MysiteURLNotFound, NoSPLicense.
		{http.StatusBadRequest, `{"error":{"code":"BadRequest","message":"Unable to retrieve user's mysite URL."}}`, m365.CauseNoDrive},
		{http.StatusNotFound, `{"error":{"code":"ResourceNotFound","message":"Tenant does not have a SPO license."}}`, m365.CauseNoDrive},
		{http.StatusNotFound, `{"error":{"code":"itemNotFound","message":"Item not found"}}`, m365.CauseNoDrive},
		{http.StatusForbidden, `{"error":{"code":"notAllowed","message":"Access to this site has been blocked."}}`, m365.CauseLocked},
		// Any other 400 is no verdict on the user's drive.
		{http.StatusBadRequest, `{"error":{"code":"BadRequest","message":"Invalid request"}}`, ""},
	} {
		status.Store(int64(tc.status))
		body.Store(tc.body)
		got, err := c.oneDriveOf(context.Background(), e.user(0).ID)
		if tc.cause == "" {
			if err == nil {
				t.Errorf("%d %s: %+v, want an error", tc.status, tc.body, got)
			}
			continue
		}
		if err != nil || got.none.Cause != string(tc.cause) {
			t.Errorf("%d %s: %+v %v, want %s", tc.status, tc.body, got, err, tc.cause)
		}
	}
}

// moreLibraries gives every site a second library, "Archive", on a second
// page of its drive list, and lists a personal site among the sites.
func moreLibraries(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case r.Method == http.MethodGet && strings.HasPrefix(p, "/v1.0/sites/") && strings.HasSuffix(p, "/drives") &&
			r.URL.Query().Get("$skiptoken") == "archive":
			site := strings.TrimSuffix(strings.TrimPrefix(p, "/v1.0/sites/"), "/drives")
			writeTestJSON(w, map[string]any{"value": []any{map[string]any{"id": "b!archive-" + site, "name": "Archive", "driveType": "documentLibrary"}}})
		case r.Method == http.MethodGet && strings.HasPrefix(p, "/v1.0/sites/") && strings.HasSuffix(p, "/drives"):
			page := forward(h, r)
			page["@odata.nextLink"] = "https://graph.microsoft.com" + p + "?$skiptoken=archive"
			writeTestJSON(w, page)
		case r.Method == http.MethodGet && p == "/v1.0/sites":
			page := forward(h, r)
			page["value"] = append(page["value"].([]any), map[string]any{
				"id":     "contoso-my.sharepoint.com,11111111-1111-1111-1111-111111111111,22222222-2222-2222-2222-222222222222",
				"webUrl": "https://contoso-my.sharepoint.com/personal/tamar_muller0_contoso_onmicrosoft_com"})
			writeTestJSON(w, page)
		default:
			h.ServeHTTP(w, r)
		}
	})
}

// forward has h answer r and returns the JSON object it answered.
func forward(h http.Handler, r *http.Request) map[string]any {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	var page map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil || rec.Code != http.StatusOK {
		panic("forwarded request failed: " + rec.Body.String())
	}
	return page
}

func writeTestJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func TestResolveSharePoint(t *testing.T) {
	e := newDriveEnv(t, driveTenant, moreLibraries, nil)
	c := e.client(nil)
	ctx := context.Background()
	st, err := e.sim.State(graphsim.StateFilter{Category: "files", NoHashes: true})
	if err != nil {
		t.Fatal(err)
	}
	webURL := map[string]string{} // site id -> URL, from the ground truth
	for _, it := range st.Items {
		if strings.HasPrefix(it.Resource, "https://") {
			webURL[it.ResourceID] = it.Resource
		}
	}
	// Personal sites and the search centre, which GET /sites lists too,
	// are no sites to back up.
	var want []Drive
	for _, s := range e.info.Sites {
		want = append(want,
			Drive{ID: s.DriveID, Name: "Documents", Service: m365.SharePoint, Owner: s.ID, OwnerName: webURL[s.ID]},
			Drive{ID: "b!archive-" + s.ID, Name: "Archive", Service: m365.SharePoint, Owner: s.ID, OwnerName: webURL[s.ID]})
	}
	all, none, err := c.ResolveDrives(ctx, m365.SharePoint, []string{"*"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(all, want) || len(none) != 0 {
		t.Errorf("*:\n%+v\nwant\n%+v\nleft out %+v", all, want, none)
	}

	// By URL (the root site's too, and in another letter case), and by id.
	var root, other graphsim.InfoRef
	for _, s := range e.info.Sites {
		if webURL[s.ID] == "https://contoso.sharepoint.com" {
			root = s
		} else {
			other = s
		}
	}
	got, _, err := c.ResolveDrives(ctx, m365.SharePoint, []string{strings.ToUpper(webURL[other.ID][:8]) + webURL[other.ID][8:] + "/", root.ID, "https://contoso.sharepoint.com"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[0].Owner != other.ID || got[0].ID != other.DriveID || got[2].Owner != root.ID || got[2].ID != root.DriveID {
		t.Errorf("named: %+v", got)
	}

	_, _, err = c.ResolveDrives(ctx, m365.SharePoint, []string{"https://contoso.sharepoint.com/sites/nowhere", "contoso.sharepoint.com,00000000-0000-0000-0000-000000000000,00000000-0000-0000-0000-000000000000"})
	if !errors.Is(err, ErrUnknownResource) || !strings.Contains(err.Error(), "nowhere") || !strings.Contains(err.Error(), "00000000-0000") {
		t.Errorf("unknown sites: %v", err)
	}
}

// siteFaults answers a site's drive list as a locked site (423
// notAllowed, Corso PR #4465) or a denied one (403) does, and can deny
// the site list itself.
func siteFaults(locked, denied string, deniedList *atomic.Bool) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p := r.URL.Path
			answer := func(status int, body string) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				_, _ = io.WriteString(w, body)
			}
			switch {
			case p == "/v1.0/sites" && deniedList.Load():
				answer(http.StatusForbidden, `{"error":{"code":"accessDenied","message":"Access denied"}}`)
			case strings.HasSuffix(p, "/drives") && strings.Contains(p, locked):
				answer(http.StatusLocked, `{"error":{"code":"notAllowed","message":"Access to this site has been blocked. Please contact the administrator to resolve this problem.","innerError":{"code":"resourceLocked"}}}`)
			case strings.HasSuffix(p, "/drives") && strings.Contains(p, denied):
				answer(http.StatusForbidden, `{"error":{"code":"accessDenied","message":"Access denied"}}`)
			default:
				h.ServeHTTP(w, r)
			}
		})
	}
}

func TestResolveSharePointUnavailableSites(t *testing.T) {
	probe := newDriveEnv(t, driveTenant, nil, nil)
	sites := probe.info.Sites
	if len(sites) < 3 {
		t.Fatalf("%d sites", len(sites))
	}
	var deniedList atomic.Bool
	e := newDriveEnv(t, driveTenant, siteFaults(sites[0].ID, sites[1].ID, &deniedList), nil)
	c := e.client(nil)
	ctx := context.Background()
	all, none, err := c.ResolveDrives(ctx, m365.SharePoint, []string{"*"})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(sites)-2 {
		t.Errorf("%d drives, want %d: %+v", len(all), len(sites)-2, all)
	}
	causes := map[string]string{}
	for _, lo := range none {
		causes[lo.ResourceID] = lo.Cause
	}
	if want := map[string]string{sites[0].ID: "locked", sites[1].ID: "accessDenied"}; !maps.Equal(causes, want) {
		t.Errorf("left out %v, want %v", causes, want)
	}
	_, _, err = c.ResolveDrives(ctx, m365.SharePoint, []string{sites[0].ID})
	if !errors.Is(err, ErrUnknownResource) || !strings.Contains(err.Error(), m365.CauseLocked.Describe()) {
		t.Errorf("named locked site: %v", err)
	}

	deniedList.Store(true)
	if _, _, err := c.ResolveDrives(ctx, m365.SharePoint, []string{"*"}); !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "Sites.Read.All") {
		t.Errorf("site list denied: %v", err)
	}
}

func TestDriveDelta(t *testing.T) {
	e := newDriveEnv(t, driveTenant, nil, nil)
	c := e.client(func(cfg *Config) { cfg.PageSize = 17 })
	for _, driveID := range []string{e.user(0).DriveID, e.info.Sites[0].DriveID} {
		items, deltaLink, pages := driveDelta(t, c, driveID, "")
		if pages < 3 || deltaLink == "" {
			t.Errorf("%d pages", pages)
		}
		tr := tree{}
		seenParents := map[string]bool{}
		for _, it := range items {
			if !it.Root && !seenParents[it.ParentID] {
				t.Errorf("%q listed before its folder", it.Name)
			}
			seenParents[it.ID] = true
		}
		tr.apply(items)
		checkTree(t, tr, e.driveState(driveID))
	}
	if n := c.Stats().Requests["drive.delta"]; n < 6 {
		t.Errorf("%d delta requests", n)
	}
}

func TestDriveDeltaIncremental(t *testing.T) {
	e := newDriveEnv(t, driveTenant, nil, nil)
	c := e.client(func(cfg *Config) { cfg.PageSize = 50 })
	driveID := e.user(0).DriveID
	items, deltaLink, _ := driveDelta(t, c, driveID, "")
	tr := tree{}
	tr.apply(items)

	// Pick files and folders to change.
	var files, folders []DriveItem
	for _, it := range items {
		switch {
		case it.Root:
		case it.Folder:
			folders = append(folders, it)
		default:
			files = append(files, it)
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].ID < files[j].ID })
	if len(files) < 5 || len(folders) < 2 {
		t.Fatalf("%d files, %d folders", len(files), len(folders))
	}
	var moved DriveItem
	for _, f := range files {
		if f.ParentID != folders[1].ID {
			moved = f
			break
		}
	}
	res := e.mutate(
		graphsim.MutateOp{Op: "add", Kind: "file", Drive: driveID, Parent: folders[0].ID},
		graphsim.MutateOp{Op: "add", Kind: "driveFolder", Drive: driveID, Name: "New stuff"},
		graphsim.MutateOp{Op: "modify", ID: files[0].ID},
		graphsim.MutateOp{Op: "delete", ID: files[1].ID},
		graphsim.MutateOp{Op: "rename", ID: files[2].ID, Name: "renamed.txt"},
		graphsim.MutateOp{Op: "move", ID: moved.ID, To: folders[1].ID},
		graphsim.MutateOp{Op: "rename", ID: folders[0].ID, Name: "Renamed folder"},
	)
	changed := map[string]bool{}
	for _, r := range res {
		changed[r.ID] = true
	}

	inc, next, _ := driveDelta(t, c, driveID, deltaLink)
	reported := map[string]DriveItem{}
	for _, it := range inc {
		reported[it.ID] = it
	}
	for id := range changed {
		if _, ok := reported[id]; !ok {
			t.Errorf("change of %s not reported", id)
		}
	}
	for id, it := range reported {
		if !changed[id] {
			t.Errorf("unchanged item reported: %+v", it)
		}
	}
	if d := reported[files[1].ID]; !d.Deleted || d.Name != "" {
		t.Errorf("deleted file: %+v", d)
	}
	if m := reported[moved.ID]; m.ParentID != folders[1].ID {
		t.Errorf("moved file: parent %s, want %s", m.ParentID, folders[1].ID)
	}
	if f := reported[files[0].ID]; f.QuickXorHash == files[0].QuickXorHash || f.CTag == files[0].CTag {
		t.Errorf("modified file: hash and cTag unchanged")
	}
	tr.apply(inc)
	checkTree(t, tr, e.driveState(driveID))

	// Nothing changed since: an empty round.
	again, _, _ := driveDelta(t, c, driveID, next)
	if len(again) != 0 {
		t.Errorf("%d items in a round without changes", len(again))
	}
}

func TestDriveDeltaExpired(t *testing.T) {
	e := newDriveEnv(t, driveTenant, nil, nil)
	c := e.client(nil)
	ctx := context.Background()
	driveID := e.user(0).DriveID
	_, deltaLink, _ := driveDelta(t, c, driveID, "")
	for _, code := range []string{"", "resyncChangesUploadDifferences"} {
		e.control(http.MethodPost, "expire", graphsim.ExpireRequest{Collection: driveID, Code: code}, nil)
		_, err := c.DriveDeltaPage(ctx, driveID, deltaLink)
		if !errors.Is(err, ErrDeltaExpired) {
			t.Errorf("expired (%q): %v", code, err)
		}
		// Starting over works.
		_, deltaLink, _ = driveDelta(t, c, driveID, "")
	}
	// A link the drive cannot read any more.
	garbled := deltaLink[:strings.Index(deltaLink, "token=")+6] + "bm90IGEgdG9rZW4"
	if _, err := c.DriveDeltaPage(ctx, driveID, garbled); !errors.Is(err, ErrDeltaExpired) {
		t.Errorf("garbled: %v", err)
	}
	// An unknown drive is not an expired token.
	if _, err := c.DriveDeltaPage(ctx, "b!nope", ""); err == nil || errors.Is(err, ErrDeltaExpired) {
		t.Errorf("unknown drive: %v", err)
	}
}

// sameBytes is bytes.Equal with a short report.
func sameBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Errorf("%s: %d bytes differ from the %d expected", what, len(got), len(want))
	}
}

// readAllFile opens and reads a whole file.
func readAllFile(t *testing.T, c *Client, driveID string, it DriveItem) ([]byte, error) {
	t.Helper()
	r, err := c.OpenFile(context.Background(), driveID, it)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}
