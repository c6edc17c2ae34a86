// Package repository wraps kopia: it opens S3 or filesystem storage,
// initializes and connects encrypted repositories, and keeps one long-lived
// repository handle per repository per process.
//
// It knows nothing about Temporal or Microsoft Graph; activities translate
// its errors into retryable or non-retryable workflow errors.
package repository
