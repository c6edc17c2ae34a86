// Package conformance checks the simulated tenant of package graphsim
// against the real Microsoft Graph client: msgraph-sdk-go with kiota's own
// middleware, authenticated by an azidentity client-secret credential
// against the simulator's token endpoint, and reaching the simulator the
// way the product does (wiring B of the Graph simulator research): every
// URL keeps https://graph.microsoft.com or login.microsoftonline.com and a
// parent RoundTripper below the SDK's middleware rewrites the host and
// scheme to the simulator's listener.
//
// The suite covers what the product's graph package tests do not: OneDrive
// and SharePoint drive delta paging and change rounds, downloads through
// the SDK's redirect handling and through pre-authenticated URLs with
// Range and expiry, the error envelopes the SDK turns into ODataError,
// throttling handled by kiota's RetryHandler, the path forms the SDK and
// Graph's own links use, msgraph-sdk-go-core's PageIterator following
// simulator-minted nextLinks, and the event writes of a restore sent with
// the SDK's default, gzip-compressed request bodies.
//
// The package holds tests only; it has no API.
package conformance
