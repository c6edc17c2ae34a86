package activities

import (
	"context"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/workflows"
)

// pagedDrive is a large drive generated on demand: files spread over
// folders, served by delta in pages the size Graph uses, with items as
// long as Graph's (ids, hashes, download URLs); nothing per item is held.
type pagedDrive struct {
	unfaked
	files, folders, pageSize int

	mu     sync.Mutex
	pages  map[string]int // delta pages served, by link ("" for the first)
	failAt int            // fail the page with this number (a dying worker), 0: never
}

func newPagedDrive(files, folders, pageSize int) *pagedDrive {
	return &pagedDrive{files: files, folders: folders, pageSize: pageSize, pages: map[string]int{}}
}

// itemID is an id shaped like Graph's drive item ids.
func pagedItemID(kind byte, i int) string {
	return fmt.Sprintf("01BYE5RZ%c%025d", kind, i)
}

// item is the first round's i-th item: the root, the folders, the files.
func (d *pagedDrive) item(i int) m365.DriveItem {
	switch {
	case i == 0:
		return m365.DriveItem{ID: pagedItemID('R', 0), Name: "root", Root: true, Folder: true}
	case i <= d.folders:
		return m365.DriveItem{ID: pagedItemID('D', i), ParentID: pagedItemID('R', 0), Name: fmt.Sprintf("Folder %05d", i), Folder: true,
			Modified: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	}
	n := i - d.folders - 1
	return d.file(n, 1)
}

// file is file n at version v.
func (d *pagedDrive) file(n, v int) m365.DriveItem {
	sum := make([]byte, 20)
	copy(sum, fmt.Sprintf("%d/%d", n, v))
	return m365.DriveItem{
		ID: pagedItemID('F', n), ParentID: pagedItemID('D', 1+n%max(1, d.folders)), Name: fmt.Sprintf("Quarterly report %07d.docx", n),
		Size: 100 + int64(n%1000) + int64(v), QuickXorHash: base64.StdEncoding.EncodeToString(sum), CTag: fmt.Sprintf(`"c:{%08X-0000-0000-0000-000000000000},%d"`, n, v),
		Created: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), Modified: time.Date(2026, 1, 1, 0, 0, n%3600, 0, time.UTC),
		CreatedBy: "adele.vance@contoso.onmicrosoft.com", ModifiedBy: "megan.bowen@contoso.onmicrosoft.com",
		DownloadURL: "https://contoso.sharepoint.com/sites/finance/_layouts/15/download.aspx?UniqueId=" + pagedItemID('U', n) +
			"&Translate=false&tempauth=v1.eyJzaXRlaWQiOiI1YjA5ZjQ1Ny0wMDAwIiwiYXBwX2Rpc3BsYXluYW1lIjoiY29yc28ifQ&ApiVersion=2.0",
	}
}

func (d *pagedDrive) total() int { return 1 + d.folders + d.files }

// DriveDeltaPageUnreadable serves the first round from "" through
// "page:N" links; its delta link reports no change.
func (d *pagedDrive) DriveDeltaPageUnreadable(_ context.Context, _, link string) (m365.DrivePage, map[string]m365.Cause, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pages[link]++
	var from int
	switch {
	case link == "":
	case strings.HasPrefix(link, "page:"):
		fmt.Sscan(strings.TrimPrefix(link, "page:"), &from)
	case link == "delta:0":
		return m365.DrivePage{DeltaLink: link}, nil, nil
	default:
		return m365.DrivePage{}, nil, fmt.Errorf("unknown link %q", link)
	}
	if d.failAt > 0 && from/d.pageSize == d.failAt {
		return m365.DrivePage{}, nil, fmt.Errorf("worker lost: %w", context.Canceled)
	}
	to := min(from+d.pageSize, d.total())
	p := m365.DrivePage{Items: make([]m365.DriveItem, 0, to-from)}
	for i := from; i < to; i++ {
		p.Items = append(p.Items, d.item(i))
	}
	if to == d.total() {
		p.DeltaLink = "delta:0"
	} else {
		p.NextLink = fmt.Sprintf("page:%d", to)
	}
	return p, nil, nil
}

func (d *pagedDrive) DrivePermissions(context.Context, string, string) ([]byte, error) {
	return []byte(`[{"roles":["read"]}]`), nil
}

// served is the number of delta pages served, and how many of them more
// than once.
func (d *pagedDrive) served() (pages, again int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, n := range d.pages {
		pages += n
		again += n - 1
	}
	return pages, again
}

// enumerationFixture runs EnumerateDrive over a pagedDrive with its own
// repository.
type enumerationFixture struct {
	t     testing.TB
	d     *Drives
	drive *pagedDrive
	repo  workflows.RepoRef
	gr    workflows.GraphRef
}

func newEnumerationFixture(t testing.TB, drive *pagedDrive) *enumerationFixture {
	repos, sealer := newRepositories(t)
	f := &enumerationFixture{t: t, drive: drive, repo: ref(t, sealer, filepath.Join(t.TempDir(), "repo"), "pw")}
	loc, creds, err := repos.resolve(context.Background(), f.repo)
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := repos.Connections.Initialize(context.Background(), loc, creds)
	if err != nil {
		t.Fatal(err)
	}
	r.Release(context.Background())
	f.gr = workflows.GraphRef{TenantID: "tenant", Credentials: sealForTest(t, sealer, workflows.GraphCredentials{ClientID: "app", ClientSecret: "s"})}
	f.d = &Drives{Tenants: &Tenants{Repos: repos, NewClient: func(string, string, string) (Client, error) { return drive, nil }}}
	return f
}

var pagedDriveRef = m365.Drive{ID: "lib", Name: "Documents", Service: m365.SharePoint, Owner: "site", OwnerName: "Finance"}

// enumerate runs EnumerateDrive, resuming from resume when set, and
// returns its result and the last checkpoint it heartbeated.
func (f *enumerationFixture) enumerate(resume *checkpoint) (workflows.DriveEnumeration, *checkpoint, error) {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(f.d)
	var last *checkpoint
	env.SetOnActivityHeartbeatListener(func(_ *activity.Info, details converter.EncodedValues) {
		var cp checkpoint
		if details.Get(&cp) == nil && len(cp.Segments) > 0 {
			last = &cp
		}
	})
	if resume != nil {
		env.SetHeartbeatDetails(*resume)
	}
	val, err := env.ExecuteActivity(f.d.EnumerateDrive, workflows.EnumerateDriveInput{Repo: f.repo, Graph: f.gr, BackupID: "b", Drive: pagedDriveRef})
	if err != nil {
		return workflows.DriveEnumeration{}, last, err
	}
	var en workflows.DriveEnumeration
	if err := val.Get(&en); err != nil {
		f.t.Fatal(err)
	}
	return en, last, nil
}
