package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/workflows"
)

// listsSelection is what a SharePoint lists backup request backs up: the
// sites a SharePoint selection names (--site, --group), whose generic
// lists are backed up apart from their libraries (m365.SharePointLists).
// `backup create sharepoint --data lists` and `backup schedule create
// sharepoint-lists` take it.
type listsSelection struct {
	driveSelection
}

func newListsSelection() *listsSelection {
	return &listsSelection{driveSelection{svc: m365.SharePoint, listsOnly: true}}
}

func (f *listsSelection) service() string { return m365.SharePointLists }

func (f *listsSelection) request(s *session, policy *backup.Retention) request {
	return request{
		idPrefix: "corso-backup-" + m365.SharePointLists,
		workflow: workflows.ContainersBackupWorkflow,
		input: s.input(func(repo workflows.RepoRef, gr workflows.GraphRef) any {
			return workflows.ContainersBackupInput{
				Repo: repo, Graph: gr, Service: m365.SharePointLists, Resources: f.selectors(), FailFast: f.failFast,
				Retention: policy, ResourcesPerRun: int(f.perRun), ResourcesInFlight: int(f.inFlight),
			}
		}),
		attrs: backupAttrs(s, m365.SharePointLists),
	}
}

// listSelectorFlags select list items in details, export and restore.
type listSelectorFlags struct {
	lists                         []string
	title                         string
	modifiedAfter, modifiedBefore string
}

func (f *listSelectorFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringSliceVar(&f.lists, "list", nil, "lists, by name")
	fl.StringVar(&f.title, "item-title", "", "items whose title contains this")
	fl.StringVar(&f.modifiedAfter, "item-modified-after", "", "items last modified after this time (RFC 3339 or YYYY-MM-DD)")
	fl.StringVar(&f.modifiedBefore, "item-modified-before", "", "items last modified before this time")
}

func (f listSelectorFlags) selector() (backup.Selector, error) {
	s := backup.Selector{Lists: f.lists, ItemTitle: f.title}
	var err error
	if s.ItemModifiedAfter, err = parseWhen("item-modified-after", f.modifiedAfter); err != nil {
		return s, err
	}
	if s.ItemModifiedBefore, err = parseWhen("item-modified-before", f.modifiedBefore); err != nil {
		return s, err
	}
	return s, s.Validate()
}

func newBackupDetailsListsCommand(g *globals) *cobra.Command {
	return newServiceDetailsCommand(g, serviceCommand{service: m365.SharePointLists, use: m365.SharePointLists,
		short:   "Show the list items of a SharePoint lists backup, optionally selected",
		example: `  corso backup details sharepoint-lists --backup ID --list Issues --item-title printer`,
	}, &listSelectorFlags{})
}

func newExportListsCommand(g *globals) *cobra.Command {
	var f exportFlags
	return newServiceExportCommand(g, serviceCommand{service: m365.SharePointLists, use: m365.SharePointLists,
		short: "Export the items of a SharePoint lists backup: each item as JSON, and each list as one CSV",
		example: `  corso export sharepoint-lists ./export --backup ID
  corso export sharepoint-lists ./export --backup ID --list Issues`,
	}, &listSelectorFlags{}, &f)
}

func newRestoreListsCommand(g *globals) *cobra.Command {
	var (
		f   restoreFlags
		sel listSelectorFlags
	)
	cmd := &cobra.Command{
		Use:   m365.SharePointLists,
		Short: "Restore the items of a SharePoint lists backup into new lists, or into the original ones",
		Example: `  corso restore sharepoint-lists --backup ID --list Issues
  corso restore sharepoint-lists --backup ID --destination / --collisions replace`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in, err := f.common(time.Now(), "15:04:05")
			if err != nil {
				return err
			}
			if in.Selector, err = sel.selector(); err != nil {
				return err
			}
			in.Service = m365.SharePointLists
			return runContainerRestore(cmd.Context(), g, in, f.creds, cmd.OutOrStdout())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.id, "backup", "", "id of the backup to restore from (see `corso backup list sharepoint-lists`)")
	sel.add(cmd)
	fl.StringVar(&f.destination, "destination", "", "each list is re-created as a new list named `<list> <destination>` (default Corso_Restore_<time>); / restores into the original lists, by name")
	fl.StringVar(&f.collisions, "collisions", workflows.CollisionSkip, "when an item with the same title already exists in the target list: skip, copy or replace")
	fl.StringVar(&f.toResource, "to-resource", "", "restore into this site (URL or id) instead of the backed-up one")
	fl.BoolVar(&f.failFast, "fail-fast", false, "stop at the first item that cannot be restored")
	addPassphraseFlags(cmd, &f.creds)
	return cmd
}
