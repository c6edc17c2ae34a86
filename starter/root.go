package main

import (
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/corso-temporal/corso/buildinfo"
	"github.com/corso-temporal/corso/logging"
	"github.com/corso-temporal/corso/temporalclient"
	"github.com/corso-temporal/corso/workflows"
)

// globals are the flags every command has.
type globals struct {
	configFile string
	temporal   temporalclient.Config
	json       bool
	workerWait time.Duration
	taskQueue  string
	// credentialsTTL, when set, replaces the default expiry of sealed
	// credentials (sealing.go).
	credentialsTTL time.Duration
	// hideProgress turns the progress line off on a terminal too.
	hideProgress bool
	logLevel     string
	logFile      string
}

func newRootCommand() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "corso",
		Short:         "Back up and restore Microsoft 365 into an encrypted repository, orchestrated by Temporal",
		Version:       buildinfo.Version(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			return g.startLogging()
		},
	}
	root.SetVersionTemplate("{{.Name}} {{.Version}}\n")
	root.CompletionOptions.DisableDefaultCmd = true
	// Every command prints through these (output.go).
	root.SetOut(terminalText{os.Stdout})
	root.SetErr(terminalText{os.Stderr})
	pf := root.PersistentFlags()
	pf.StringVar(&g.configFile, "config-file", "", "config file (default $CORSO_CONFIG_DIR/.corso.toml or $HOME/.corso.toml)")
	g.temporal.AddFlags(pf) // --temporal-address, --namespace, TLS and API key
	pf.BoolVar(&g.json, "json", false, "print results as JSON")
	pf.StringVar(&g.taskQueue, "task-queue", envOr("CORSO_TASK_QUEUE", workflows.TaskQueue), "task queue the corso-worker fleet polls (env CORSO_TASK_QUEUE)")
	pf.DurationVar(&g.workerWait, "worker-wait", 15*time.Second, "how long to wait for a corso-worker to pick up the work before giving up")
	pf.BoolVar(&g.hideProgress, "hide-progress", false, "do not show the progress line on a terminal (it never shows with --json or when stderr is not a terminal)")
	pf.StringVar(&g.logLevel, "log-level", "warn", "debug, info, warn or error: what the CLI logs of its Temporal connection")
	pf.StringVar(&g.logFile, "log-file", "", "write the CLI's log to this file (appended, owner-only) instead of stderr")
	pf.DurationVar(&g.credentialsTTL, "credentials-ttl", 0, "how long the request's sealed credentials stay valid (default 24h for repo, list and delete requests, 720h for backups, restores and exports, none for backup schedules)")

	root.AddCommand(newRepoCommand(g), newBackupCommand(g), newRestoreCommand(g), newExportCommand(g), newCodecServerCommand())
	return root
}

// startLogging sends the CLI's log where --log-file and --log-level say:
// the Temporal client's messages, which are the CLI's only log.
func (g *globals) startLogging() error {
	if g.logFile == "" {
		log, err := logging.New(os.Stderr, g.logLevel)
		if err != nil {
			return err
		}
		g.temporal.Logger = log
		return nil
	}
	// The file stays open until the process ends.
	log, _, err := logging.OpenFile(g.logFile, g.logLevel)
	if err != nil {
		return err
	}
	g.temporal.Logger = log
	return nil
}
