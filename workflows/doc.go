// Package workflows holds corso's Temporal workflows and the types that the
// CLI (starter), the workflows and the activities exchange.
//
// Workflows here are deterministic orchestration only: they never do I/O,
// read the clock or iterate maps, and they never import kopia, Graph or
// cloud SDKs. Activities are referred to by name (see activities.go) so
// that the CLI can import this package without linking the heavy clients.
package workflows
