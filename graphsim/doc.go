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
//     drives (OneDrives, and sites' document libraries: one or several a
//     site) and drive items with streamed content, quickXorHash and
//     pre-authenticated download URLs that honour Range.
//   - SharePoint lists (lists.go): sites' document libraries as lists,
//     generic lists with columns of every type, a hidden and a system
//     list; list items with fields, versions and delta; list and item
//     writes that refuse read-only fields as Graph does.
//   - Delta queries with $skiptoken/$deltatoken (Exchange) and token (drive)
//     links that carry their query options and a change-log position, so
//     later rounds return exactly the changes since the token; tokens can be
//     expired on demand with the codes real Graph uses.
//   - A client-credentials token endpoint and bearer-token checks.
//   - Throttling (per-mailbox concurrency and budgets, drive resource units,
//     Teams request rates per team and per tenant)
//     and faults (latency, bandwidth, 5xx, resets, truncated bodies, expired
//     download URLs), all deterministic by seed where random.
//   - The write paths a restore needs; written items join the tenant and show
//     up in later deltas. As on Graph, an event's transactionId is an
//     idempotency key within its mailbox (a third of generated events carry
//     one): a POST that repeats one gets the existing event back, or 400
//     ErrorDuplicateTransactionId when its content differs, so a restore
//     must post transactionId null (eventtx.go). A POST of an event or
//     contact with a property its type lacks answers 400 RequestBodyRead;
//     read-only properties are ignored (postprops.go).
//   - A control API under /_sim/ (state, stats, mutate, expire, faults,
//     throttle) that tests use as ground truth.
//
// Persistent faults. Real tenants fail on one resource, the same way on
// every attempt. After the regular users and sites, every tenant has
// special resources that do so, deterministically (same answer on every
// retry and restart for a seed; FaultOptions stay random and transient):
//
//   - unlicensed@: Exchange calls answer 400 AuthenticationError, the
//     drive 404 "User's mysite not found."; listed without licences;
//   - onprem@: mailbox on premises, 404 MailboxNotEnabledForRESTAPI;
//   - policyblocked@: every Exchange call 403 ErrorAccessDenied (an
//     application access policy); its OneDrive works;
//   - overquota@: mailFolders and messages delta 403 ErrorQuotaExceeded,
//     while plain listing and reads work;
//   - sharedmailbox@, roommailbox@: disabled, unlicensed, mailbox works, no
//     OneDrive;
//   - lockeddrive@: its OneDrive answers 423 notAllowed/resourceLocked;
//   - quirky@ and the Quirks site: messages that answer ErrorCorruptData,
//     ErrorInvalidRecipients or ErrorCannotOpenFileAttachment, a
//     malware-flagged file (403 malwareDetected), a OneNote package whose
//     section answers 503 for ever, a .docx whose download differs from
//     its listed size and quickXorHash, and an event series with too many
//     occurrences whose GET expanding exceptionOccurrences answers 503
//     with an empty body for ever (backed up without its exceptions);
//   - a guest (#EXT#) with neither mailbox nor OneDrive;
//   - GET /sites also lists a personal (OneDrive) site and the /search site.
//
// State.Expected says what a correct backup does with each (skip, leave
// out, fail alone, or back up despite the quirk); quirks.go cites the source
// of every answer. Tenant-wide churn leaves these resources alone.
// TenantOptions.Clean leaves them all out, for throughput benchmarks;
// regular users, sites and their contents are the same either way.
//
// Transient answers. Real Graph also fails a few calls once that succeed
// when retried. Each happens once per server lifetime (a restarted server
// does it again), at a fixed place for a seed, and not in Clean tenants;
// a correct backup gets past them and stores everything, so they add no
// Expected entries. Stats.Faults counts them (transient.go cites sources):
//
//   - transient404: the first GET of one ordinary message's $value in
//     quirky@'s Inbox, and the first GET of the first event of its first
//     non-empty calendar, answer 404 with an empty body;
//   - transient400: the first nextLink page of quirky@'s OneDrive delta
//     (or the first page, when it is the whole round, as at the default
//     page size) answers 400 invalidRequest "Invalid request";
//   - revokedToken (and revokedTokenRejected per 401): the access token
//     of the Graph request after Options.RevokeTokenAfter (default 200;
//     -1 never) authenticated ones is revoked: it answers 401
//     InvalidAuthenticationToken from then on, while every token the token
//     endpoint issues is a new string and works.
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
