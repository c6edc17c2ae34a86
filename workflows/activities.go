package workflows

// Activity names. Workers register activities under these names; workflows
// schedule them by name so this package stays free of I/O dependencies.
const (
	ActivityInitRepository    = "InitRepository"
	ActivityConnectRepository = "ConnectRepository"
)

// TaskQueue is the queue every corso-worker polls.
const TaskQueue = "corso"

// Backup activity names.
const (
	ActivityResolveMailboxes  = "ResolveMailboxes"
	ActivityPlanMailbox       = "PlanMailboxBackup"
	ActivityBackupCollection  = "BackupCollection"
	ActivityBackupCollections = "BackupCollections"
	ActivityCombineBackup     = "CombineBackup"
	ActivityListBackups       = "ListBackups"
	ActivityBackupDetails     = "BackupDetails"
	ActivityDeleteBackups     = "DeleteBackups"
)

// Restore and export activity names.
const (
	ActivityPlanRestore       = "PlanRestore"
	ActivityRestoreCollection = "RestoreCollection"
	ActivityExportExchange    = "ExportExchange"
	ActivityExportDrive       = "ExportDrive"
)

// Drive backup activity names.
const (
	ActivityResolveDrives    = "ResolveDrives"
	ActivityEnumerateDrive   = "EnumerateDrive"
	ActivityBackupDriveBatch = "BackupDriveBatch"
	ActivityCombineDrives    = "CombineDrives"
)

// Drive restore activity names.
const (
	ActivityPlanDriveRestore  = "PlanDriveRestore"
	ActivityRestoreDriveBatch = "RestoreDriveBatch"
)
