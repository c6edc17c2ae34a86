package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/corso-temporal/corso/workflows"
)

func newRepoCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "repo",
		Short: "Initialize, connect to and maintain a repository",
	}
	initCmd := &cobra.Command{Use: "init", Short: "Initialize a new repository (succeeds if one exists and the passphrase opens it)"}
	connectCmd := &cobra.Command{Use: "connect", Short: "Connect to an existing repository"}
	for _, provider := range []workflows.StorageProvider{workflows.ProviderS3, workflows.ProviderFilesystem} {
		initCmd.AddCommand(newRepoProviderCommand(g, opInit, provider))
		connectCmd.AddCommand(newRepoProviderCommand(g, opConnect, provider))
	}
	cmd.AddCommand(initCmd, connectCmd, newRepoMaintenanceCommand(g), newRepoPassphraseCommand(g))
	return cmd
}

type repoOp string

const (
	opInit    repoOp = "init"
	opConnect repoOp = "connect"
)

func newRepoProviderCommand(g *globals, op repoOp, provider workflows.StorageProvider) *cobra.Command {
	var f storageFlags
	cmd := &cobra.Command{
		Use:   string(provider),
		Short: strings.ToUpper(string(op[:1])) + string(op[1:]) + " a repository on " + map[workflows.StorageProvider]string{workflows.ProviderS3: "S3 or S3-compatible storage", workflows.ProviderFilesystem: "a filesystem path every worker can reach"}[provider],
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRepo(cmd.Context(), g, op, f.storage(provider), f.creds, cmd.OutOrStdout())
		},
	}
	f.register(cmd, provider)
	return cmd
}
