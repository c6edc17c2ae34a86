package workflows

import "go.temporal.io/sdk/workflow"

// BackupListWorkflow lists backups. Reading the repository needs its
// passphrase and kopia, which only workers have.
func BackupListWorkflow(ctx workflow.Context, in BackupListInput) (BackupListResult, error) {
	var res BackupListResult
	err := workflow.ExecuteActivity(shortActivityOptions(ctx), ActivityListBackups, in).Get(ctx, &res)
	return res, err
}

// BackupDetailsWorkflow returns one page of a backup's details.
func BackupDetailsWorkflow(ctx workflow.Context, in BackupDetailsInput) (BackupDetailsResult, error) {
	var res BackupDetailsResult
	err := workflow.ExecuteActivity(shortActivityOptions(ctx), ActivityBackupDetails, in).Get(ctx, &res)
	return res, err
}

// BackupDeleteWorkflow deletes backups.
func BackupDeleteWorkflow(ctx workflow.Context, in BackupDeleteInput) (BackupDeleteResult, error) {
	var res BackupDeleteResult
	err := workflow.ExecuteActivity(shortActivityOptions(ctx), ActivityDeleteBackups, in).Get(ctx, &res)
	return res, err
}
