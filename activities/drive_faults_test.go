package activities

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/workflows"
)

// backupErrors reads a backup's item errors by item id.
func (f *driveFixture) backupErrors(id string) map[string]backup.ItemError {
	_, idx := f.openBackup(id)
	out := map[string]backup.ItemError{}
	for _, e := range idx.Errors {
		out[e.ItemID] = e
	}
	return out
}

// backupDetails reads a backup's details by item id.
func (f *driveFixture) backupDetails(id string) map[string]backup.Entry {
	r, idx := f.openBackup(id)
	out := map[string]backup.Entry{}
	for _, c := range idx.Collections {
		details, err := readDetails(context.Background(), r, c.DetailsID)
		require.NoError(f.t, err)
		for _, e := range details {
			out[e.ItemID] = e
		}
	}
	return out
}

// Files Microsoft 365 will never serve are left out with their cause, even
// with --fail-fast: one flagged as malware by the listing without a
// download attempt, one refused as malware on download and a OneNote
// section that answers 503 without a retry.
func TestDriveBackupSkipsUnservableFiles(t *testing.T) {
	f := newDriveFixture(t)
	f.failFast = true
	f.drive.flagged = map[string]m365.Cause{"f05": m365.CauseMalware}
	f.drive.refuse = map[string]error{
		"f07": &m365.Fault{Class: m365.ItemSkipped, Cause: m365.CauseMalware, Err: errors.New("download f07: Graph answered 403 malwareDetected")},
		"f08": &m365.Fault{Class: m365.ItemSkipped, Cause: m365.CauseOneNotePackage,
			Err: &m365.ThrottledError{Err: errors.New("download f08: Graph answered 503")}},
	}
	want := f.drive.truth()
	for _, name := range []string{"Docs/file 5.txt", "Docs/file 7.txt", "file 8.txt"} {
		delete(want, name)
	}
	s, err := f.backup("b1")
	require.NoError(t, err)
	require.Equal(t, want, f.stored("b1"))
	require.Equal(t, int64(22), s.Items)
	require.Equal(t, int64(3), s.Skipped)
	require.Equal(t, int64(3), s.Errors)
	require.Zero(t, s.Warnings)
	require.Zero(t, f.drive.downloads["f05"], "a file flagged as malware is never downloaded")
	require.Equal(t, 1, f.drive.downloads["f07"], "refused once, never retried")
	require.Equal(t, 1, f.drive.downloads["f08"])
	errs := f.backupErrors("b1")
	require.Len(t, errs, 3)
	require.Equal(t, backup.ItemError{Category: backup.FilesCategory, Path: []string{"OneDrive", "Docs"}, ItemID: "f05",
		Name: "file 5.txt", Reason: m365.CauseMalware.Describe(), Cause: "malware"}, errs["f05"])
	require.Equal(t, "malware", errs["f07"].Cause)
	require.Equal(t, "oneNotePackage", errs["f08"].Cause)
	require.Equal(t, []string{"OneDrive"}, errs["f08"].Path)

	// A file backed up before and flagged since is left out too, not kept
	// from the earlier backup.
	f.drive.downloads = map[string]int{}
	f.drive.flagged["f02"] = m365.CauseMalware
	f.drive.put(f.drive.items["f02"])
	s, err = f.backup("b2")
	require.NoError(t, err)
	require.NotContains(t, f.stored("b2"), "file 2.txt")
	require.Equal(t, "malware", f.backupErrors("b2")["f02"].Cause)
	require.Zero(t, f.drive.downloads["f02"])
	// Files refused for good are not asked for again until they change,
	// and are reported again.
	require.Zero(t, f.drive.downloads["f07"])
	require.Zero(t, f.drive.downloads["f08"])
	require.Equal(t, "malware", f.backupErrors("b2")["f07"].Cause)
	require.Equal(t, "oneNotePackage", f.backupErrors("b2")["f08"].Cause)
	require.Equal(t, int64(21), s.Items)
}

// SharePoint serves some files with other bytes than it lists: they are
// kept as served, with a warning, and are not downloaded again while the
// listing stays the same. A download that ends early is no drift: it is
// retried, then the file is left out.
func TestDriveBackupKeepsDriftedFiles(t *testing.T) {
	f := newDriveFixture(t)
	served := "content 4, rewritten by SharePoint on the way out"
	f.drive.served = map[string]string{"f04": served}
	f.drive.short = map[string]bool{"f06": true}
	s, err := f.backup("b1")
	require.NoError(t, err)
	stored := f.stored("b1")
	require.Equal(t, served, stored["file 4.txt"])
	require.NotContains(t, stored, "file 6.txt")
	require.Equal(t, int64(24), s.Items)
	require.Equal(t, int64(1), s.Warnings)
	require.Equal(t, int64(1), s.Skipped, "only the short download is not in the backup")
	require.Equal(t, int64(1), s.Errors)
	require.Equal(t, 1, f.drive.downloads["f04"], "a drifted download is not retried")
	require.Equal(t, downloadAttempts, f.drive.downloads["f06"])
	errs := f.backupErrors("b1")
	require.True(t, errs["f04"].Kept)
	require.Equal(t, "sizeDrift", errs["f04"].Cause)
	require.Equal(t, "file 4.txt", errs["f04"].Name)
	require.False(t, errs["f06"].Kept)
	require.Empty(t, errs["f06"].Cause)
	require.Equal(t, int64(len(served)), f.backupDetails("b1")["f04"].Size, "details record the bytes kept")

	// Unchanged since, though listed again (as delta does when sharing
	// or a name changes): reused as stored, without a new warning.
	f.drive.downloads = map[string]int{}
	f.drive.putFile("new", "root", "new.txt", "new")
	f.drive.put(f.drive.items["f04"])
	s, err = f.backup("b2")
	require.NoError(t, err)
	require.Zero(t, f.drive.downloads["f04"])
	require.Equal(t, served, f.stored("b2")["file 4.txt"])
	require.Equal(t, int64(len(served)), f.backupDetails("b2")["f04"].Size)
	require.Zero(t, s.Warnings)
}

// A drive locked or denied to the app after the resolution fails its own
// backup at once, for good, saying why.
func TestEnumerateLockedOrDeniedDriveFailsAlone(t *testing.T) {
	for _, tc := range []struct {
		class m365.Class
		cause m365.Cause
		typ   string
	}{
		{m365.ResourceUnavailable, m365.CauseLocked, workflows.ErrTypeResourceUnavailable},
		{m365.ResourceDenied, m365.CauseAccessDenied, workflows.ErrTypeResourceDenied},
	} {
		t.Run(string(tc.cause), func(t *testing.T) {
			f := newDriveFixture(t)
			f.drive.deltaErr = &m365.Fault{Class: tc.class, Cause: tc.cause, Err: errors.New("delta of drive drive: Graph answered 4xx")}
			_, err := f.backup("b")
			var appErr *temporal.ApplicationError
			require.ErrorAs(t, err, &appErr)
			require.Equal(t, tc.typ, appErr.Type())
			require.True(t, appErr.NonRetryable())
			require.Contains(t, appErr.Message(), tc.cause.Describe())
			require.Contains(t, appErr.Message(), "ann@x")
		})
	}
}

func TestResolveDrivesReportsThoseLeftOut(t *testing.T) {
	f := newDriveFixture(t)
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(f.d)
	drive := m365.Drive{ID: "d1", Name: "OneDrive", Service: m365.OneDrive, Owner: "u1", OwnerName: "ann@x"}
	guest := backup.LeftOut{Resource: "gus@x", ResourceID: "u2", Cause: "noDrive", Reason: m365.CauseNoDrive.Describe()}
	denied := backup.LeftOut{Resource: "pat@x", ResourceID: "u3", Cause: "accessDenied", Reason: "access denied to the app: 403"}
	f.drive.resolve = func() ([]m365.Drive, []backup.LeftOut, error) {
		return []m365.Drive{drive}, []backup.LeftOut{guest, denied}, nil
	}
	in := workflows.ResolveDrivesInput{Graph: f.gr, Service: m365.OneDrive, Selectors: []string{"*"}}
	val, err := env.ExecuteActivity(f.d.ResolveDrives, in)
	require.NoError(t, err)
	var got []workflows.ResolvedDrive
	require.NoError(t, val.Get(&got))
	require.Equal(t, []workflows.ResolvedDrive{
		{Drive: drive},
		{Drive: m365.Drive{Service: m365.OneDrive, Owner: "u2", OwnerName: "gus@x"}, LeftOut: &guest},
		{Drive: m365.Drive{Service: m365.OneDrive, Owner: "u3", OwnerName: "pat@x"}, LeftOut: &denied},
	}, got)

	// Nothing at all to back up fails, saying why.
	f.drive.resolve = func() ([]m365.Drive, []backup.LeftOut, error) { return nil, []backup.LeftOut{guest}, nil }
	_, err = env.ExecuteActivity(f.d.ResolveDrives, in)
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	require.True(t, appErr.NonRetryable())
	require.Contains(t, appErr.Message(), "gus@x ("+m365.CauseNoDrive.Describe()+")")
}

// A file Graph keeps refusing for no reason it names fails alone, as an
// Exchange item does: the others are backed up, and the file is reported.
// A refusal that is not the file's (the app's secret no longer accepted)
// stops the batch instead, and --fail-fast stops it at the failing file.
func TestDriveBackupFailsAPersistentlyRefusedFileAlone(t *testing.T) {
	f := newDriveFixture(t)
	f.drive.refuse = map[string]error{"f03": errors.New("download f03: Graph answered 400 generalException: An unexpected error occurred.")}
	want := f.drive.truth()
	delete(want, "Docs/file 3.txt")
	s, err := f.backup("b1")
	require.NoError(t, err)
	require.Equal(t, want, f.stored("b1"))
	require.Equal(t, int64(1), s.Skipped)
	require.Equal(t, int64(1), s.Errors)
	require.Contains(t, f.backupErrors("b1")["f03"].Reason, "generalException")

	// The next backup tries the file again, changed or not.
	delete(f.drive.refuse, "f03")
	_, err = f.backup("b2")
	require.NoError(t, err)
	require.Equal(t, "content 3", f.stored("b2")["Docs/file 3.txt"])

	f.failFast = true
	f.drive.refuse["f03"] = errors.New("download f03: Graph answered 400 generalException: An unexpected error occurred.")
	f.drive.put(f.drive.items["f03"])
	_, err = f.backup("b3")
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	require.Equal(t, workflows.ErrTypeItemFailed, appErr.Type())
	require.True(t, appErr.NonRetryable())

	f.failFast = false
	f.drive.refuse["f03"] = fmt.Errorf("download f03: %w", m365.ErrAuth)
	_, err = f.backup("b4")
	require.ErrorAs(t, err, &appErr)
	require.Equal(t, workflows.ErrTypeGraphAuth, appErr.Type())
}
