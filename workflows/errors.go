package workflows

// Application error types. Activities fail with these types and mark them
// non-retryable when retrying cannot help; the CLI prints their message.
const (
	ErrTypeInvalidInput       = "InvalidInput"
	ErrTypeBucketNotFound     = "BucketNotFound"
	ErrTypeAccessDenied       = "AccessDenied"
	ErrTypeWrongPassphrase    = "WrongPassphrase"
	ErrTypeRepositoryNotFound = "RepositoryNotFound"
	ErrTypeStorageUnreachable = "StorageUnreachable"
)

// nonRetryableTypes are never retried, whatever the activity marked.
var nonRetryableTypes = []string{
	ErrTypeInvalidInput,
	ErrTypeBucketNotFound,
	ErrTypeAccessDenied,
	ErrTypeWrongPassphrase,
	ErrTypeRepositoryNotFound,
}

// Backup error types.
const (
	ErrTypeGraphAuth      = "GraphAuth"
	ErrTypeUnknownMailbox = "UnknownMailbox"
	ErrTypeBackupNotFound = "BackupNotFound"
	ErrTypeItemFailed     = "ItemFailed" // with --fail-fast
	ErrTypeThrottled      = "Throttled"
)

// backupNonRetryableTypes are user or configuration errors in backups.
var backupNonRetryableTypes = append([]string{
	ErrTypeGraphAuth, ErrTypeUnknownMailbox, ErrTypeBackupNotFound, ErrTypeItemFailed,
}, nonRetryableTypes...)
