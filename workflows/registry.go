package workflows

// All lists every workflow a corso worker runs, for registration and for
// replaying recorded histories.
func All() []any {
	return []any{
		RepoInitWorkflow, RepoConnectWorkflow, RepoMaintenanceWorkflow, RepoPassphraseWorkflow,
		ExchangeBackupWorkflow, MailboxBackupWorkflow, ContainersBackupWorkflow,
		BackupListWorkflow, BackupDetailsWorkflow, BackupDeleteWorkflow,
		ExchangeRestoreWorkflow, ExchangeExportWorkflow,
		DriveBackupWorkflow, ResourceDrivesBackupWorkflow, DriveExportWorkflow, DriveRestoreWorkflow,
		DriveBudgetWorkflow, VerifyBackupWorkflow,
	}
}
