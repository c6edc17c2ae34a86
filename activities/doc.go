// Package activities does corso's I/O on behalf of workflows: repository
// work through package repository and, for backups, Graph calls. Activities
// are methods on structs that hold their long-lived dependencies; the
// worker builds those structs once per process.
//
// Activities decide which failures are worth retrying: user errors come
// back as non-retryable application errors with messages the CLI prints.
package activities
