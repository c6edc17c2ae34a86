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
	// ErrTypeCredentialsRefused: sealed credentials from another request,
	// for another purpose, or expired; always marked non-retryable.
	ErrTypeCredentialsRefused = "CredentialsRefused"
	// ErrTypeDataUnreadable: data the request needs is missing from the
	// repository's storage or damaged; always marked non-retryable. Items
	// whose own data it is fail alone instead (restore, export, verify).
	ErrTypeDataUnreadable = "DataUnreadable"
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
	// A resource (mailbox, drive, site) the app may not read, or that has
	// nothing to back up: that resource's backup fails alone.
	ErrTypeResourceDenied      = "ResourceDenied"
	ErrTypeResourceUnavailable = "ResourceUnavailable"
)

// backupNonRetryableTypes are user or configuration errors in backups.
var backupNonRetryableTypes = append([]string{
	ErrTypeGraphAuth, ErrTypeUnknownMailbox, ErrTypeBackupNotFound, ErrTypeItemFailed,
	ErrTypeResourceDenied, ErrTypeResourceUnavailable,
}, nonRetryableTypes...)
