package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/workflows"
)

// exchangeSelection is what an Exchange backup request backs up; `backup
// create exchange` and `backup schedule create exchange` both take it.
type exchangeSelection struct {
	mailboxes  []string
	categories []string
	failFast   bool
	perRun     resourcesPerRun
	inFlight   resourcesInFlight
}

func (f *exchangeSelection) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringSliceVar(&f.mailboxes, "mailbox", nil, "mailboxes to back up: user ids or addresses, comma separated, or '*' for all")
	fl.StringSliceVar(&f.categories, "data", nil, "data to back up: email, contacts, events (default all)")
	fl.BoolVar(&f.failFast, "fail-fast", false, "stop at the first item that cannot be backed up")
	f.perRun.add(cmd)
	f.inFlight.add(cmd)
}

func (f *exchangeSelection) validate() error {
	if err := validateMailboxes(f.mailboxes); err != nil {
		return err
	}
	for _, c := range f.categories {
		if _, err := m365.ParseCategory(c); err != nil {
			return fmt.Errorf("--data: %w", err)
		}
	}
	return nil
}

func (f *exchangeSelection) service() string { return "exchange" }

// flags are the selection as the command line gives it.
func (f *exchangeSelection) flags() []string {
	return selectionFlags("--mailbox", f.mailboxes, f.categories, f.failFast, f.perRun, f.inFlight)
}

// selectionFlags are a container service's selection as flags: the
// resources under flag, then --data, --fail-fast, the resources per run
// and in flight.
func selectionFlags(flag string, resources, categories []string, failFast bool, perRun resourcesPerRun, inFlight resourcesInFlight) []string {
	out := []string{flag, strings.Join(resources, ",")}
	if len(categories) > 0 {
		out = append(out, "--data", strings.Join(categories, ","))
	}
	if failFast {
		out = append(out, "--fail-fast")
	}
	return slices.Concat(out, perRun.flags(), inFlight.flags())
}

// request is the Exchange backup request of the selection, with the
// retention policy to apply after it (nil: none).
func (f *exchangeSelection) request(s *session, policy *backup.Retention) request {
	return request{
		idPrefix: "corso-backup-exchange",
		workflow: workflows.ExchangeBackupWorkflow,
		input: s.input(func(repo workflows.RepoRef, gr workflows.GraphRef) any {
			return workflows.ExchangeBackupInput{
				Repo: repo, Graph: gr, Mailboxes: f.mailboxes, Categories: f.categories, FailFast: f.failFast, Retention: policy,
				ResourcesPerRun: int(f.perRun), ResourcesInFlight: int(f.inFlight),
			}
		}),
		attrs: backupAttrs(s, f.service()),
	}
}

// backupAttrs are the search attributes of a backup request of service.
func backupAttrs(s *session, service string) []temporal.SearchAttributeUpdate {
	return []temporal.SearchAttributeUpdate{
		workflows.AttrOperation.ValueSet("backup create"),
		workflows.AttrService.ValueSet(service),
		workflows.AttrTenant.ValueSet(s.graph.tenant),
		workflows.AttrRepository.ValueSet(s.repo.Storage.String()),
	}
}

type backupCreateFlags struct {
	sel   exchangeSelection
	wait  bool
	creds credentialFlags
}

func newBackupCreateExchangeCommand(g *globals) *cobra.Command {
	var f backupCreateFlags
	cmd := &cobra.Command{
		Use:   "exchange",
		Short: "Back up Exchange mailboxes (mail, contacts, calendars)",
		Example: `  corso backup create exchange --mailbox ann@contoso.com
  corso backup create exchange --mailbox '*' --data email`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBackupCreate(cmd.Context(), g, &f.sel, f.wait, f.creds, cmd.OutOrStdout())
		},
	}
	f.sel.add(cmd)
	cmd.Flags().BoolVar(&f.wait, "wait", true, "wait for the backups to finish; --wait=false prints the workflow ids and returns")
	addPassphraseFlags(cmd, &f.creds)
	return cmd
}

// graphApp is the Entra app of the environment, sealed into each request.
type graphApp struct {
	tenant string
	creds  workflows.GraphCredentials
}

// loadGraph reads the Entra app from the environment into the session;
// its secret is sealed with each request's input.
func loadGraph(s *session) error {
	tenant := os.Getenv("AZURE_TENANT_ID")
	id, secret := os.Getenv("AZURE_CLIENT_ID"), os.Getenv("AZURE_CLIENT_SECRET")
	var missing []string
	for k, v := range map[string]string{"AZURE_TENANT_ID": tenant, "AZURE_CLIENT_ID": id, "AZURE_CLIENT_SECRET": secret} {
		if v == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("Microsoft 365 app credentials missing: set %s", strings.Join(sortedCopy(missing), ", "))
	}
	s.graph = &graphApp{tenant: tenant, creds: workflows.GraphCredentials{ClientID: id, ClientSecret: secret}}
	return nil
}

func validateMailboxes(mbs []string) error {
	if len(mbs) == 0 {
		return errors.New("--mailbox is required (ids or addresses, or '*' for all mailboxes)")
	}
	for _, m := range mbs {
		if strings.TrimSpace(m) == "" {
			return errors.New("--mailbox has an empty entry")
		}
		if m == "*" && len(mbs) > 1 {
			return errors.New("--mailbox '*' already selects every mailbox; give it alone")
		}
	}
	return nil
}

// backupCreateOutput is what `backup create --json` prints. Backups and
// LeftOut hold at most workflows.MaxSummaries entries each; Totals counts
// them all.
type backupCreateOutput struct {
	Workflow submitted               `json:"workflow"`
	WebUI    string                  `json:"webUI,omitempty"`
	Backups  []backup.Summary        `json:"backups,omitempty"`
	LeftOut  []backup.LeftOut        `json:"leftOut,omitempty"`
	Totals   *workflows.BackupTotals `json:"totals,omitempty"`
}

// backupSelection is what one service's backup request backs up, as its
// flags give it.
type backupSelection interface {
	service() string
	add(cmd *cobra.Command)
	validate() error
	flags() []string
	request(s *session, policy *backup.Retention) request
}

func runBackupCreate(ctx context.Context, g *globals, sel backupSelection, wait bool, cf credentialFlags, out io.Writer) error {
	return runBackupCreates(ctx, g, []backupSelection{sel}, wait, cf, out)
}

// runBackupCreates makes the requests of the selections one after the
// other, each printed as runBackupRequest prints it (with --json, one
// document per request, one per line); a request that fails does not
// keep the next from running.
func runBackupCreates(ctx context.Context, g *globals, sels []backupSelection, wait bool, cf credentialFlags, out io.Writer) error {
	for _, sel := range sels {
		if err := sel.validate(); err != nil {
			return err
		}
	}
	s, err := connectedSession(ctx, g, cf)
	if err != nil {
		return err
	}
	defer s.client.Close()
	if err := loadGraph(s); err != nil {
		return err
	}
	var errs []error
	for i, sel := range sels {
		if i > 0 && !g.json {
			fmt.Fprintln(out)
		}
		if err := runBackupRequest(ctx, g, s, sel.service(), sel.request(s, nil), wait, len(sels) > 1, out); err != nil {
			if len(sels) > 1 {
				err = fmt.Errorf("%s: %w", sel.service(), err)
			}
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// runBackupRequest submits a backup request and, with wait, shows its
// progress, prints its totals and the backups its result lists (the
// failed ones at least, up to a bound) and fails if any backup failed.
// oneLine prints --json's document on one line, for requests printed one
// after another.
func runBackupRequest(ctx context.Context, g *globals, s *session, service string, req request, wait, oneLine bool, out io.Writer) error {
	printJSON := printJSON
	if oneLine {
		printJSON = func(out io.Writer, v any) error { return json.NewEncoder(out).Encode(v) }
	}
	if !wait {
		sub, err := start(ctx, s.client, g, req)
		if err != nil {
			return err
		}
		o := backupCreateOutput{Workflow: sub, WebUI: webUILink(g, sub)}
		if g.json {
			return printJSON(out, o)
		}
		fmt.Fprintf(out, "Submitted %s\n", sub.WorkflowID)
		if o.WebUI != "" {
			fmt.Fprintf(out, "Watch it at %s\n", o.WebUI)
		}
		return nil
	}
	var res struct {
		Backups []backup.Summary        `json:"backups"`
		LeftOut []backup.LeftOut        `json:"leftOut"`
		Totals  *workflows.BackupTotals `json:"totals"`
	}
	req.progress = func(ctx context.Context, sub submitted) (progressReport, bool) {
		return backupProgress(ctx, s.client, sub)
	}
	sub, err := execute(ctx, s.client, g, req, &res)
	if err != nil {
		return err
	}
	totals := requestTotals(res.Totals, res.Backups, len(res.LeftOut))
	o := backupCreateOutput{Workflow: sub, WebUI: webUILink(g, sub), Backups: res.Backups, LeftOut: res.LeftOut, Totals: &totals}
	if g.json {
		if err := printJSON(out, o); err != nil {
			return err
		}
	} else {
		printBackupTable(out, res.Backups)
		printBackupTotals(out, service, totals, len(res.Backups))
		printLeftOut(out, res.LeftOut, totals.LeftOut)
		if o.WebUI != "" {
			fmt.Fprintf(out, "\nWeb UI: %s\n", o.WebUI)
		}
	}
	return failedBackups(totals, res.Backups)
}

// requestTotals are a request's totals; requests that ran before results
// carried totals list every backup, which are counted.
func requestTotals(t *workflows.BackupTotals, bs []backup.Summary, leftOut int) workflows.BackupTotals {
	if t != nil {
		return *t
	}
	c := workflows.BackupTotals{Backups: len(bs), LeftOut: leftOut}
	for _, b := range bs {
		if b.Status == backup.StatusCompleted {
			c.Completed++
		} else {
			c.Failed++
		}
		c.Items += b.Items
		c.Bytes += b.Bytes
		c.Errors += b.Errors
	}
	return c
}

// failedBackups is the error of a request some of whose backups failed:
// how many, and the first few the result names.
func failedBackups(t workflows.BackupTotals, bs []backup.Summary) error {
	if t.Failed == 0 {
		return nil
	}
	var named []string
	for _, b := range bs {
		if b.Status != backup.StatusCompleted && len(named) < maxFailuresNamed {
			named = append(named, cmp.Or(b.ResourceName, b.Resource)+": "+b.Error)
		}
	}
	if more := t.Failed - len(named); more > 0 {
		named = append(named, fmt.Sprintf("and %d more", more))
	}
	return fmt.Errorf("%d of %d backups failed: %s", t.Failed, t.Backups, strings.Join(named, "; "))
}

// maxFailuresNamed bounds the failures the CLI's error message names.
const maxFailuresNamed = 10

// backupProgress sums the progress of a request's backups. Finished
// resources come from the request's progress query, running ones from
// their own.
func backupProgress(ctx context.Context, c client.Client, sub submitted) (progressReport, bool) {
	var resources []workflows.BackupProgress
	if queryProgress(ctx, c, sub.WorkflowID, &resources) != nil {
		return progressReport{}, false
	}
	// A request that runs in pages lists this page's resources; the
	// earlier pages' backups come as totals.
	var before workflows.RequestProgress
	if queryWorkflow(ctx, c, sub.WorkflowID, workflows.RequestProgressQuery, &before) != nil {
		before = workflows.RequestProgress{Resources: len(resources)}
	}
	r := progressReport{Stage: "backing up", Unit: "backups", Total: before.Resources, Done: before.Done, Items: before.Items, Bytes: before.Bytes}
	for _, rp := range resources {
		if rp.Stage == "running" {
			var p workflows.BackupProgress
			if queryProgress(ctx, c, "corso-backup-"+rp.BackupID, &p) == nil {
				rp = p
			}
		}
		r.Items += rp.Items
		r.Bytes += rp.Bytes
		if rp.Stage == "done" {
			r.Done++
		}
	}
	return r, true
}

func queryProgress(ctx context.Context, c client.Client, workflowID string, into any) error {
	return queryWorkflow(ctx, c, workflowID, workflows.ProgressQuery, into)
}

func queryWorkflow(ctx context.Context, c client.Client, workflowID, query string, into any) error {
	v, err := c.QueryWorkflow(ctx, workflowID, "", query)
	if err != nil {
		return err
	}
	return v.Get(into)
}
