package workflows

// All lists every workflow a corso worker runs, for registration and for
// replaying recorded histories.
func All() []any {
	return []any{
		RepoInitWorkflow, RepoConnectWorkflow,
		ExchangeBackupWorkflow, MailboxBackupWorkflow,
		BackupListWorkflow, BackupDetailsWorkflow, BackupDeleteWorkflow,
		ExchangeRestoreWorkflow, ExchangeExportWorkflow,
		DriveBackupWorkflow, ResourceDrivesBackupWorkflow, DriveExportWorkflow, DriveRestoreWorkflow,
		DriveBudgetWorkflow,
	}
}
