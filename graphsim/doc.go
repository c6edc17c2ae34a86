// Package graphsim simulates a Microsoft 365 tenant behind the Microsoft
// Graph v1.0 (and the few beta) HTTP paths a backup and restore tool uses.
//
// It exists so that backups, restores, benchmarks and fault tests can run
// without a real tenant: the product's unmodified Graph client (msgraph-sdk-go
// with its kiota middleware) talks to [Server.Handler] exactly as it would to
// graph.microsoft.com. The tenant is generated deterministically from a seed
// and size options, lazily: an item exists only as a pure function of
// (seed, owner, container, index) until a mutation or a write touches it, so
// a tenant of a million items costs almost nothing until it is read.
//
// What the simulator serves:
//
//   - Graph read paths for users, groups, sites, mail folders and messages
//     (JSON and MIME), attachments, contact folders and contacts, calendars
//     and events (recurring series with exceptions and cancellations),
//     drives and drive items with streamed content, quickXorHash and
//     pre-authenticated download URLs that honour Range.
//   - Delta queries with $skiptoken/$deltatoken (Exchange) and token (drive)
//     links that carry their query options and a change-log position, so
//     later rounds return exactly the changes since the token; tokens can be
//     expired on demand with the codes real Graph uses.
//   - A client-credentials token endpoint and bearer-token checks.
//   - Throttling (per-mailbox concurrency and budgets, drive resource units)
//     and faults (latency, bandwidth, 5xx, resets, truncated bodies, expired
//     download URLs), all deterministic by seed where random.
//   - The write paths a restore needs; written items join the tenant and show
//     up in later deltas.
//   - A control API under /_sim/ (state, stats, mutate, expire, faults,
//     throttle) that tests use as ground truth.
//
// Link and URL choice: @odata.nextLink and @odata.deltaLink are minted under
// Options.GraphURL (default https://graph.microsoft.com) because the product
// keeps Graph URLs and routes its transport to the simulator, and clients use
// these links verbatim. Download URLs (@microsoft.graph.downloadUrl and the
// 302 Location of /content) point at Options.BaseURL, or at the address the
// request arrived on when BaseURL is empty, so that any plain HTTP client can
// fetch them without the Graph transport, exactly as pre-authenticated
// SharePoint URLs need no Authorization header.
//
// What it must not do: reach any network beyond the listener it is served
// on, hold whole generated file contents in memory, or keep per-item state
// for items nobody touched. It is a test and demo double, not a security
// boundary: its tokens are signed only to catch client mistakes.
package graphsim
