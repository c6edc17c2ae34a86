// Package e2e tests corso end to end with the real binaries: it starts
// `corso-dev up` (embedded Temporal server, Web UI, versitygw S3), several
// `corso-worker` processes, and drives the `corso` CLI as an admin would.
// It is the only package that needs those servers, so they are started once
// for all its tests.
package e2e
