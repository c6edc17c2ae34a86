package main

import (
	"github.com/spf13/cobra"

	"github.com/corso-temporal/corso/m365"
)

func newBackupCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "Create, list, inspect and delete backups",
	}
	create := &cobra.Command{Use: "create", Short: "Back up Microsoft 365 data"}
	create.AddCommand(newBackupCreateExchangeCommand(g))
	list := &cobra.Command{Use: "list", Short: "List backups"}
	list.AddCommand(newBackupListCommand(g, "exchange"))
	details := &cobra.Command{Use: "details", Short: "Show what a backup holds"}
	details.AddCommand(newBackupDetailsExchangeCommand(g))
	del := &cobra.Command{Use: "delete", Short: "Delete backups"}
	del.AddCommand(newBackupDeleteCommand(g, "exchange"))
	prune := &cobra.Command{Use: "prune", Short: "Delete the backups a retention policy does not keep"}
	prune.AddCommand(newBackupPruneCommand(g, "exchange"))
	verify := &cobra.Command{Use: "verify", Short: "Check that a backup can be read back, and optionally restore a sample"}
	verify.AddCommand(newBackupVerifyCommand(g, "exchange"))
	for _, service := range []string{m365.OneDrive, m365.SharePoint} {
		create.AddCommand(newBackupCreateDriveCommand(g, service))
		list.AddCommand(newBackupListCommand(g, service))
		details.AddCommand(newBackupDetailsDriveCommand(g, service))
		del.AddCommand(newBackupDeleteCommand(g, service))
		prune.AddCommand(newBackupPruneCommand(g, service))
		verify.AddCommand(newBackupVerifyCommand(g, service))
	}
	create.AddCommand(newBackupCreateGroupsCommand(g))
	list.AddCommand(newBackupListCommand(g, m365.Groups))
	details.AddCommand(newBackupDetailsGroupsCommand(g))
	del.AddCommand(newBackupDeleteCommand(g, m365.Groups))
	prune.AddCommand(newBackupPruneCommand(g, m365.Groups))
	list.AddCommand(newBackupListCommand(g, m365.SharePointLists))
	details.AddCommand(newBackupDetailsListsCommand(g))
	del.AddCommand(newBackupDeleteCommand(g, m365.SharePointLists))
	prune.AddCommand(newBackupPruneCommand(g, m365.SharePointLists))
	cmd.AddCommand(create, list, details, del, prune, verify, newBackupScheduleCommand(g))
	return cmd
}

// addPassphraseFlags gives repository-reading commands the secrets flags
// (the location comes from the config file).
func addPassphraseFlags(cmd *cobra.Command, cf *credentialFlags) {
	f := cmd.Flags()
	f.StringVar(&cf.passphrase, "passphrase", "", "repository passphrase (default env CORSO_PASSPHRASE)")
	f.StringVar(&cf.accessKey, "aws-access-key", "", "AWS access key id (default: the AWS credential chain)")
	f.StringVar(&cf.secretKey, "aws-secret-access-key", "", "AWS secret access key (default: the AWS credential chain)")
	f.StringVar(&cf.sessionToken, "aws-session-token", "", "AWS session token for temporary credentials")
}
