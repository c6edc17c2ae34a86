package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/workflows"
)

// resourceFlag is how each drive service names what it backs up.
func resourceFlag(service string) (flag, help string) {
	if service == m365.SharePoint {
		return "site", "sites to back up: site URLs or ids, comma separated, or '*' for all"
	}
	return "user", "users whose OneDrive to back up: ids or addresses, comma separated, or '*' for all"
}

// driveSelection is what a OneDrive or SharePoint backup request backs
// up; `backup create` and `backup schedule create` both take it.
type driveSelection struct {
	svc       string
	resources []string
	// groups (SharePoint) name Microsoft 365 groups whose sites are
	// backed up.
	groups   []string
	failFast bool
	perRun   resourcesPerRun
	inFlight resourcesInFlight
	// data (SharePoint) names what of the sites to back up: libraries,
	// lists, or both, each in a request of its own.
	data []string
	// listsOnly marks the selection of a lists request, which has no
	// --data.
	listsOnly bool
}

// SharePoint's --data names.
const (
	dataLibraries = "libraries"
	dataLists     = "lists"
)

func (f *driveSelection) service() string { return f.svc }

func (f *driveSelection) add(cmd *cobra.Command) {
	flag, help := resourceFlag(f.svc)
	fl := cmd.Flags()
	fl.StringSliceVar(&f.resources, flag, nil, help)
	if f.svc == m365.SharePoint {
		fl.StringSliceVar(&f.groups, "group", nil, "Microsoft 365 groups (teams) whose sites to back up: ids, names or addresses, or '*' for every group")
		if !f.listsOnly {
			fl.StringSliceVar(&f.data, "data", nil, "data to back up: libraries, lists, or both (default libraries)")
		}
	}
	fl.BoolVar(&f.failFast, "fail-fast", false, "stop at the first file that cannot be backed up")
	f.perRun.add(cmd)
	f.inFlight.add(cmd)
}

func (f *driveSelection) validate() error {
	flag, _ := resourceFlag(f.svc)
	if f.svc != m365.SharePoint {
		return validateResources(flag, f.resources)
	}
	f.resources = siteIDsRejoined(f.resources)
	for _, d := range f.data {
		if d != dataLibraries && d != dataLists {
			return fmt.Errorf("--data: unknown data %q (want %s, %s or both)", d, dataLibraries, dataLists)
		}
	}
	if len(f.resources) == 0 && len(f.groups) == 0 {
		return errors.New("--site or --group is required (or '*' for all)")
	}
	if len(f.resources) > 0 {
		if err := validateResources(flag, f.resources); err != nil {
			return err
		}
	}
	if len(f.groups) > 0 {
		return validateResources("group", f.groups)
	}
	return nil
}

// selectors are the sites the request names, and the groups whose sites
// it backs up (m365.GroupSelector).
func (f *driveSelection) selectors() []string {
	out := slices.Clone(f.resources)
	for _, g := range f.groups {
		out = append(out, m365.GroupSelector+g)
	}
	return out
}

func (f *driveSelection) flags() []string {
	flag, _ := resourceFlag(f.svc)
	var out []string
	if len(f.resources) > 0 || len(f.groups) == 0 {
		out = append(out, "--"+flag, strings.Join(f.resources, ","))
	}
	if len(f.groups) > 0 {
		out = append(out, "--group", strings.Join(f.groups, ","))
	}
	if len(f.data) > 0 {
		out = append(out, "--data", strings.Join(f.data, ","))
	}
	if f.failFast {
		out = append(out, "--fail-fast")
	}
	return slices.Concat(out, f.perRun.flags(), f.inFlight.flags())
}

// wants reports whether --data names d, libraries being the default.
func (f *driveSelection) wants(d string) bool {
	return slices.Contains(f.data, d) || (d == dataLibraries && len(f.data) == 0)
}

// selections are the requests `backup create` makes of the selection:
// the libraries' (drives) and the lists' (m365.SharePointLists), as
// --data names them.
func (f *driveSelection) selections() []backupSelection {
	if f.svc != m365.SharePoint {
		return []backupSelection{f}
	}
	var out []backupSelection
	if f.wants(dataLibraries) {
		out = append(out, f)
	}
	if f.wants(dataLists) {
		lists := *f
		lists.data, lists.listsOnly = nil, true
		out = append(out, &listsSelection{driveSelection: lists})
	}
	return out
}

// schedulable refuses what a schedule, which starts one request, cannot
// carry: the lists of `--data lists`, which are a request of their own.
func (f *driveSelection) schedulable() error {
	if f.wants(dataLists) {
		return errors.New("--data lists cannot be scheduled with the libraries: schedule the lists with `corso backup schedule create " + m365.SharePointLists + "`")
	}
	return nil
}

func (f *driveSelection) request(s *session, policy *backup.Retention) request {
	return request{
		idPrefix: "corso-backup-" + f.svc,
		workflow: workflows.DriveBackupWorkflow,
		input: s.input(func(repo workflows.RepoRef, gr workflows.GraphRef) any {
			return workflows.DriveBackupInput{Repo: repo, Graph: gr, Service: f.svc, Resources: f.selectors(), FailFast: f.failFast, Retention: policy,
				ResourcesPerRun: int(f.perRun), ResourcesInFlight: int(f.inFlight)}
		}),
		attrs: backupAttrs(s, f.svc),
	}
}

func newBackupCreateDriveCommand(g *globals, service string) *cobra.Command {
	var (
		sel   = driveSelection{svc: service}
		wait  bool
		creds credentialFlags
	)
	short := map[string]string{m365.OneDrive: "Back up users' OneDrive files", m365.SharePoint: "Back up SharePoint sites' document libraries"}[service]
	cmd := &cobra.Command{
		Use:   service,
		Short: short,
		Example: map[string]string{
			m365.OneDrive:   "  corso backup create onedrive --user ann@contoso.com\n  corso backup create onedrive --user '*'",
			m365.SharePoint: "  corso backup create sharepoint --site https://contoso.sharepoint.com/sites/finance\n  corso backup create sharepoint --site '*'\n  corso backup create sharepoint --group Marketing --data libraries,lists",
		}[service],
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := sel.validate(); err != nil {
				return err
			}
			return runBackupCreates(cmd.Context(), g, sel.selections(), wait, creds, cmd.OutOrStdout())
		},
	}
	sel.add(cmd)
	cmd.Flags().BoolVar(&wait, "wait", true, "wait for the backups to finish; --wait=false prints the workflow id and returns")
	addPassphraseFlags(cmd, &creds)
	return cmd
}

// siteIDsRejoined puts back together the site ids a comma-separated flag
// split apart: Graph names a site "hostname,site-collection id,web id"
// (learn.microsoft.com/graph/api/resources/site, id), so the hostname and
// the two GUIDs that follow it are one site.
func siteIDsRejoined(rs []string) []string {
	out := make([]string, 0, len(rs))
	for i := 0; i < len(rs); i++ {
		if i+2 < len(rs) && isHostname(rs[i]) && isGUID(rs[i+1]) && isGUID(rs[i+2]) {
			out = append(out, strings.Join(rs[i:i+3], ","))
			i += 2
			continue
		}
		out = append(out, rs[i])
	}
	return out
}

func isHostname(s string) bool {
	return strings.Contains(s, ".") && !strings.ContainsAny(s, "/:@ ")
}

func isGUID(s string) bool {
	_, err := uuid.Parse(strings.TrimSpace(s))
	return err == nil && len(strings.TrimSpace(s)) == 36
}

func validateResources(flag string, rs []string) error {
	if len(rs) == 0 {
		return fmt.Errorf("--%s is required (or '*' for all)", flag)
	}
	for _, r := range rs {
		if strings.TrimSpace(r) == "" {
			return fmt.Errorf("--%s has an empty entry", flag)
		}
		if r == "*" && len(rs) > 1 {
			return fmt.Errorf("--%s '*' already selects everything; give it alone", flag)
		}
	}
	return nil
}

// driveSelectorFlags are Corso's OneDrive and SharePoint file selectors.
type driveSelectorFlags struct {
	folders, files, libraries []string
	createdAfter, createdBefore,
	modifiedAfter, modifiedBefore string
}

func (f *driveSelectorFlags) add(cmd *cobra.Command, service string) {
	fl := cmd.Flags()
	fl.StringSliceVar(&f.folders, "folder", nil, "folders: /a/b is that folder from the root and below; b any folder whose path contains b")
	fl.StringSliceVar(&f.files, "file", nil, "file names")
	fl.StringVar(&f.createdAfter, "file-created-after", "", "files created after this time (RFC 3339 or YYYY-MM-DD)")
	fl.StringVar(&f.createdBefore, "file-created-before", "", "files created before this time")
	fl.StringVar(&f.modifiedAfter, "file-modified-after", "", "files modified after this time")
	fl.StringVar(&f.modifiedBefore, "file-modified-before", "", "files modified before this time")
	if service == m365.SharePoint {
		fl.StringSliceVar(&f.libraries, "library", nil, "document libraries, by name")
	}
}

func (f driveSelectorFlags) selector() (backup.Selector, error) {
	s := backup.Selector{Folders: f.folders, Files: f.files, Libraries: f.libraries}
	var err error
	for _, t := range []struct {
		flag, v string
		into    *time.Time
	}{
		{"file-created-after", f.createdAfter, &s.CreatedAfter},
		{"file-created-before", f.createdBefore, &s.CreatedBefore},
		{"file-modified-after", f.modifiedAfter, &s.ModifiedAfter},
		{"file-modified-before", f.modifiedBefore, &s.ModifiedBefore},
	} {
		if *t.into, err = parseWhen(t.flag, t.v); err != nil {
			return s, err
		}
	}
	return s, s.Validate()
}

func newBackupDetailsDriveCommand(g *globals, service string) *cobra.Command {
	var (
		id       string
		sel      driveSelectorFlags
		problems problemFlags
		creds    credentialFlags
	)
	cmd := &cobra.Command{
		Use:   service,
		Short: "Show the files of a " + service + " backup, optionally selected",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if id == "" {
				return errors.New("--backup is required")
			}
			s, err := sel.selector()
			if err != nil {
				return err
			}
			return runBackupDetails(cmd.Context(), g, service, id, s, problems, creds, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&id, "backup", "", "id of the backup (see `corso backup list "+service+"`)")
	sel.add(cmd, service)
	problems.add(cmd)
	addPassphraseFlags(cmd, &creds)
	return cmd
}
