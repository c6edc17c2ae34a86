package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"

	"github.com/corso-temporal/corso/activities"
	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/export"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/temporalclient"
	"github.com/corso-temporal/corso/workflows"
)

type exportFlags struct {
	id      string
	sel     selectorFlags
	archive bool
	creds   credentialFlags
	// format is how channel threads are written (export groups).
	format string
}

func newExportCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "export", Short: "Export backed-up items as files"}
	cmd.AddCommand(newExportExchangeCommand(g), newExportDriveCommand(g, m365.OneDrive), newExportDriveCommand(g, m365.SharePoint),
		newExportGroupsCommand(g), newExportListsCommand(g))
	return cmd
}

func newExportDriveCommand(g *globals, service string) *cobra.Command {
	var (
		f   exportFlags
		sel driveSelectorFlags
	)
	cmd := &cobra.Command{
		Use:   service + " DIR",
		Short: "Export the files of a " + service + " backup, folder tree kept",
		Example: "  corso export " + service + " ./export --backup ID\n  corso export " + service +
			" ./export --backup ID --folder /Reports --archive",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.id == "" {
				return errors.New("--backup is required")
			}
			s, err := sel.selector()
			if err != nil {
				return err
			}
			return runExport(cmd.Context(), g, service, f, s, args[0], cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&f.id, "backup", "", "id of the backup to export from (see `corso backup list "+service+"`)")
	sel.add(cmd, service)
	cmd.Flags().BoolVar(&f.archive, "archive", false, "write one zip file, Corso_Export_<time>.zip, in DIR")
	addPassphraseFlags(cmd, &f.creds)
	return cmd
}

func newExportExchangeCommand(g *globals) *cobra.Command {
	var f exportFlags
	cmd := &cobra.Command{
		Use:   "exchange DIR",
		Short: "Export mail (.eml), contacts (.vcf) and events (.ics) from an Exchange backup",
		Example: `  corso export exchange ./export --backup ID
  corso export exchange ./export --backup ID --email-folder Inbox --archive`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExportExchange(cmd.Context(), g, f, args[0], cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&f.id, "backup", "", "id of the backup to export from (see `corso backup list exchange`)")
	f.sel.add(cmd)
	cmd.Flags().BoolVar(&f.archive, "archive", false, "write one zip file, Corso_Export_<time>.zip, in DIR")
	addPassphraseFlags(cmd, &f.creds)
	return cmd
}

func runExportExchange(ctx context.Context, g *globals, f exportFlags, dir string, out io.Writer) error {
	if f.id == "" {
		return errors.New("--backup is required")
	}
	sel, err := f.sel.selector()
	if err != nil {
		return err
	}
	return runExport(ctx, g, "exchange", f, sel, dir, out)
}

func runExport(ctx context.Context, g *globals, service string, f exportFlags, sel backup.Selector, dir string, out io.Writer) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	// The directory is checked before anything is submitted, so a typo
	// costs nothing.
	if _, err := export.NewDirSink(dir); err != nil {
		return err
	}
	target := dir
	if f.archive {
		target = filepath.Join(dir, "Corso_Export_"+time.Now().UTC().Format("02-Jan-2006_15-04-05")+".zip")
	}
	s, err := connectedSession(ctx, g, f.creds)
	if err != nil {
		return err
	}
	defer s.client.Close()

	stop, queue, counts, err := startExportWorker(g, s)
	if err != nil {
		return err
	}
	defer stop()

	wf := any(workflows.ExchangeExportWorkflow)
	if service == m365.OneDrive || service == m365.SharePoint {
		wf = workflows.DriveExportWorkflow
	}
	var res workflows.ExportResult
	sub, err := execute(ctx, s.client, g, request{
		idPrefix: "corso-export-" + service,
		workflow: wf,
		input: s.input(func(repo workflows.RepoRef, _ workflows.GraphRef) any {
			return workflows.ExportInput{Repo: repo, Service: service, BackupID: f.id, Selector: sel, Dir: target,
				Archive: f.archive, TaskQueue: queue, Format: f.format}
		}),
		attrs: append(repoAttrs("export", s.repo), workflows.AttrService.ValueSet(service),
			workflows.AttrBackupID.ValueSet(f.id)),
		// The files are written here: this process counts them as it goes.
		progress: func(context.Context, submitted) (progressReport, bool) { return exportReport(counts.Counts()), true },
	}, &res)
	if err != nil {
		return err
	}
	if g.json {
		return printJSON(out, struct {
			Workflow submitted `json:"workflow"`
			workflows.ExportResult
		}{sub, res})
	}
	fmt.Fprintf(out, "Exported backup %s of %s to %s\n\n", res.BackupID, res.Resource, res.Path)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CATEGORY\tFILES\tFAILED\tSIZE")
	for _, c := range res.Categories {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", c.Category, c.Restored, c.Failed, humanBytes(c.Bytes))
	}
	_ = tw.Flush()
	if len(res.Errors) > 0 {
		fmt.Fprintf(out, "\n%d items could not be exported:\n", len(res.Errors))
		for _, e := range res.Errors {
			fmt.Fprintf(out, "  %s %s: %s\n", e.Category, e.ItemID, e.Reason)
		}
		return fmt.Errorf("%d items could not be exported", len(res.Errors))
	}
	return nil
}

// exportReport is where an export stands: the selected items handled and
// their bytes as backed up, of the selection's totals once the export has
// counted them.
func exportReport(c activities.ExportCounts) progressReport {
	if !c.Planned {
		return progressReport{Stage: "selecting items to export"}
	}
	return progressReport{Stage: "exporting", Items: c.Items, ItemsTotal: c.ItemsTotal, Bytes: c.Bytes, BytesTotal: c.BytesTotal}
}

// startExportWorker runs the export activity in this process on a task
// queue of its own, so the files land on this machine whichever worker runs
// the workflow, and counts its progress. Its kopia cache lives in a
// temporary directory. It has a client of its own that logs nothing: its
// failures reach the admin as the workflow's one-line error.
func startExportWorker(g *globals, s *session) (stop func(), queue string, progress *activities.ExportProgress, err error) {
	opts := g.temporal
	opts.Logger = slog.New(slog.DiscardHandler)
	c, err := temporalclient.Dial(opts)
	if err != nil {
		return nil, "", nil, err
	}
	tmp, err := os.MkdirTemp("", "corso-export-")
	if err != nil {
		c.Close()
		return nil, "", nil, err
	}
	host, _ := os.Hostname()
	conns, err := repository.NewConnections(repository.ClientOptions{
		Hostname: "corso-cli-" + host, Username: "corso", Dir: tmp,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		c.Close()
		_ = os.RemoveAll(tmp)
		return nil, "", nil, err
	}
	queue = newWorkflowID("corso-export")
	w := worker.New(c, queue, worker.Options{
		MaxConcurrentActivityExecutionSize: 1,
		DisableWorkflowWorker:              true,
		// The activity opens the credentials sealed for its request, and
		// this process heartbeats while it runs.
		Interceptors: []interceptor.WorkerInterceptor{workflows.RequestInterceptor(), activities.LivenessInterceptor(activities.LivenessEvery)},
	})
	progress = &activities.ExportProgress{}
	x := &activities.Exporter{Repos: &activities.Repositories{Connections: conns, Sealer: s.sealer}, Progress: progress}
	w.RegisterActivityWithOptions(x.ExportExchange, activity.RegisterOptions{Name: workflows.ActivityExportExchange})
	w.RegisterActivityWithOptions(x.ExportDrive, activity.RegisterOptions{Name: workflows.ActivityExportDrive})
	if err := w.Start(); err != nil {
		conns.Close(context.Background())
		c.Close()
		_ = os.RemoveAll(tmp)
		return nil, "", nil, fmt.Errorf("start the export worker: %w", err)
	}
	return func() {
		w.Stop()
		conns.Close(context.Background())
		c.Close()
		_ = os.RemoveAll(tmp)
	}, queue, progress, nil
}
