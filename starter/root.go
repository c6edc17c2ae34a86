package main

import (
	"os"
	"time"

	"github.com/spf13/cobra"

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
}

func newRootCommand() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "corso",
		Short:         "Back up and restore Microsoft 365 into an encrypted repository, orchestrated by Temporal",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
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
	pf.DurationVar(&g.credentialsTTL, "credentials-ttl", 0, "how long the request's sealed credentials stay valid (default 24h for repo, list and delete requests, 720h for backups, restores and exports, none for backup schedules)")

	root.AddCommand(newRepoCommand(g), newBackupCommand(g), newRestoreCommand(g), newExportCommand(g), newCodecServerCommand())
	return root
}
