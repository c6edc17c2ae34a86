// Package graph reads Exchange mailboxes through Microsoft Graph for
// backups: it resolves mailboxes, lists their containers (mail folders,
// contact folders, calendars), pages through delta enumerations and streams
// item contents. For restores it creates containers, lists what a target
// already holds and writes backed-up items back. Temporal activities use it through the vocabulary of
// package m365; this package is the only one in the product that imports the
// Graph SDK (msgraph-sdk-go, kiota) or azidentity.
//
// Document libraries (users' OneDrives and SharePoint sites' libraries) are
// read the same way: drives are resolved from users and sites, enumerated
// by drive delta, and their files streamed from pre-authenticated download
// URLs and checked against Graph's quickXorHash; restores create folders,
// upload files (in chunks when large) and re-create sharing.
//
// The same code talks to graph.microsoft.com and to the simulator
// (graphsim): URLs always name the Microsoft hosts and, when
// Config.Endpoint is set, the transport routes those hosts to it. The
// client keeps Exchange's limit of concurrent requests per mailbox (and a
// limit per drive), retries short throttling and transient failures itself,
// and hands longer throttling back to the caller as a ThrottledError so that
// a workflow, not a sleeping goroutine, waits it out.
//
// It must not buffer whole message bodies or more than one delta page, and
// it must not retry authentication failures: a wrong secret is final.
package graph

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	azauth "github.com/microsoftgraph/msgraph-sdk-go-core/authentication"

	"github.com/corso-temporal/corso/loopback"
	"github.com/corso-temporal/corso/m365"
)

// The domain types are m365's, so activities can depend on the vocabulary
// without compiling the Graph SDK.
type (
	Mailbox        = m365.Mailbox
	Category       = m365.Category
	Container      = m365.Container
	ItemMeta       = m365.ItemMeta
	Change         = m365.Change
	Page           = m365.Page
	ThrottledError = m365.ThrottledError
	ExistingItem   = m365.ExistingItem
)

// Categories of Exchange data.
const (
	Email    = m365.Email
	Contacts = m365.Contacts
	Events   = m365.Events
)

// Config says which tenant and app to act as and where Graph is.
type Config struct {
	TenantID, ClientID, ClientSecret string
	// Endpoint, when set (e.g. "http://127.0.0.1:9010"), routes every request
	// for graph.microsoft.com, login.microsoftonline.com and SharePoint
	// download hosts to that address; empty means Microsoft's cloud. It
	// must be https unless it is this machine (CheckEndpoint).
	Endpoint string
	// MaxConcurrentPerMailbox limits in-flight requests per mailbox in this
	// process (default 4, Exchange's limit per app and mailbox).
	MaxConcurrentPerMailbox int
	// MaxConcurrentPerDrive limits in-flight requests per drive (OneDrive
	// or document library) in this process, file downloads included
	// (default 8).
	MaxConcurrentPerDrive int
	// PageSize is the Prefer: odata.maxpagesize of delta calls (default 500).
	PageSize int
	// DriveBudget, when set, meters drive requests in SharePoint's
	// resource units (see DriveBudget); nil leaves them to Retry-After.
	DriveBudget DriveBudget
	// IdleTimeout is how long an answer may send nothing before its
	// request is abandoned and retried (default DefaultIdleTimeout).
	IdleTimeout time.Duration
	// TeamRequestsPerSecond is the rate of requests on one team that a
	// whole request budget stands for (default
	// DefaultTeamRequestsPerSecond); see pacing.go.
	TeamRequestsPerSecond float64
	// TeamsBudget, when set, meters reads of channel messages per tenant;
	// nil leaves them to Retry-After.
	TeamsBudget TeamsBudget
	// MailboxRequestsPerMinute, when positive, is the rate of requests
	// on one mailbox that a whole request budget stands for (Exchange's:
	// DefaultMailboxRequestsPerMinute); zero leaves mailboxes to their
	// slots and Retry-After. See pacing.go.
	MailboxRequestsPerMinute float64
}

const (
	defaultConcurrency      = 4
	defaultDriveConcurrency = 8
	defaultPageSize         = 500

	graphHost = "graph.microsoft.com"
	loginHost = "login.microsoftonline.com"
)

// graphScopes is the app-only scope: whatever the app was granted.
var graphScopes = []string{"https://" + graphHost + "/.default"}

// Client is a Graph client for one tenant and app. It is safe for
// concurrent use.
type Client struct {
	cfg     Config
	sdk     *msgraphsdk.GraphServiceClient
	adapter *msgraphsdk.GraphRequestAdapter
	stats   *stats
	limiter *limiter
	// driveLimiter holds the slots of drives, as limiter those of
	// mailboxes.
	driveLimiter *limiter
	retry        *transientRetry
	teams        resourcePacing
	// betaRoot is where the few beta calls go (event delta, event content
	// and event restores), derived from the adapter's v1.0 base URL.
	betaRoot string
	// smallEventPages holds the calendars ("mailbox/calendar") whose delta
	// Exchange serves only in small pages.
	smallEventPages sync.Map
	// servedMessages holds each channel's last page of messages
	// (channels.go servedPage).
	servedMessages sync.Map
	// inlineAttachmentMax is the size from which an attachment is
	// uploaded in chunks rather than posted whole; uploadChunk is the
	// size of those chunks.
	inlineAttachmentMax, uploadChunk int
	// simpleUploadMax is the size up to which a drive file is uploaded in
	// one request; larger ones go through an upload session in chunks of
	// driveChunk bytes.
	simpleUploadMax int64
	driveChunk      int
}

// New builds a client. It does not contact Graph: bad credentials show up as
// ErrAuth on the first call.
func New(cfg Config) (*Client, error) {
	if cfg.TenantID == "" || cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, fmt.Errorf("graph: tenant id, client id and client secret are required: %w", ErrAuth)
	}
	if cfg.MaxConcurrentPerMailbox <= 0 {
		cfg.MaxConcurrentPerMailbox = defaultConcurrency
	}
	if cfg.MaxConcurrentPerDrive <= 0 {
		cfg.MaxConcurrentPerDrive = defaultDriveConcurrency
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = defaultPageSize
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.TeamRequestsPerSecond <= 0 {
		cfg.TeamRequestsPerSecond = DefaultTeamRequestsPerSecond
	}
	target, err := CheckEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, err
	}

	c := &Client{cfg: cfg, stats: newStats(), inlineAttachmentMax: maxInlineAttachment, uploadChunk: attachmentChunk,
		simpleUploadMax: maxSimpleDriveUpload, driveChunk: driveUploadChunk}
	// Exchange counts concurrency per app and mailbox, so clients of the same
	// app in one process share slots.
	c.limiter = sharedLimiter(limiterKey(cfg, target), cfg.MaxConcurrentPerMailbox)
	c.driveLimiter = sharedLimiter("drive|"+limiterKey(cfg, target), cfg.MaxConcurrentPerDrive)

	base := sharedBaseTransport()
	cred, err := newCredential(cfg, &http.Client{Transport: tokenTransport(base, target, c.stats)})
	if err != nil {
		return nil, err
	}
	auth, err := azauth.NewAzureIdentityAuthenticationProviderWithScopes(cred, graphScopes)
	if err != nil {
		return nil, fmt.Errorf("graph: authentication provider: %w", err)
	}
	c.teams = resourcePacing{perSecond: cfg.TeamRequestsPerSecond, budget: cfg.TeamsBudget, mailboxPerSecond: cfg.MailboxRequestsPerMinute / 60 * mailboxPaceShare,
		unshared: sharedMailboxPace(limiterKey(cfg, target))}
	c.retry = graphTransport(base, target, c.stats, c.limiter, c.driveLimiter, cfg.DriveBudget, c.teams, cfg.IdleTimeout)
	hc := &http.Client{
		Transport: &reauth{
			base: khttp.NewCustomTransportWithParentTransport(c.retry, c.middlewares()...),
			cred: cred,
		},
		// Redirects are the RedirectHandler's business.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		// No overall timeout: message bodies stream for as long as they take;
		// callers bound calls with their context and the transport bounds
		// waiting for response headers.
		Timeout: 0,
	}
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, nil, nil, hc)
	if err != nil {
		return nil, fmt.Errorf("graph: request adapter: %w", err)
	}
	c.adapter = adapter
	c.sdk = msgraphsdk.NewGraphServiceClient(adapter)
	c.betaRoot = strings.TrimSuffix(adapter.GetBaseUrl(), "/v1.0") + "/beta"
	return c, nil
}

// CheckEndpoint parses Config.Endpoint: nil for Microsoft's cloud, else
// the address traffic is routed to. The client secret and bearer tokens
// travel on it, so plain http is refused unless the host is this machine
// (a simulator in tests and the dev stack).
func CheckEndpoint(endpoint string) (*url.URL, error) {
	if endpoint == "" {
		return nil, nil
	}
	u, err := url.Parse(strings.TrimRight(endpoint, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("graph endpoint %q is not an http(s) address", endpoint)
	}
	if u.Scheme == "http" && !loopback.Host(u.Hostname()) {
		return nil, fmt.Errorf("graph endpoint %q is plain http to another machine: the client secret and tokens would travel unencrypted; use https (http is accepted only for localhost, 127.0.0.0/8 and ::1)", endpoint)
	}
	return u, nil
}

// middlewares is kiota's default pipeline in a fixed order (kiota builds it
// from a map, so its own order is random) with a RetryHandler that only
// waits out short throttling and no request compression.
func (c *Client) middlewares() []khttp.Middleware {
	opts := msgraphsdk.GetDefaultClientOptions()
	return []khttp.Middleware{
		msgraphcore.NewGraphTelemetryHandler(&opts),
		khttp.NewUrlReplaceHandler(true, msgraphcore.ReplacementPairs),
		khttp.NewRetryHandlerWithOptions(khttp.RetryHandlerOptions{
			ShouldRetry:  c.shouldRetryThrottled,
			MaxRetries:   maxThrottleRetries,
			DelaySeconds: 1,
		}),
		khttp.NewRedirectHandler(),
		// Request bodies go uncompressed: the handler would read a whole
		// body into memory to gzip it, and not every endpoint a restore
		// writes to (upload URLs) takes gzip.
		khttp.NewCompressionHandlerWithOptions(*khttp.NewCompressionOptionsReference(false)),
		khttp.NewParametersNameDecodingHandler(),
		khttp.NewUserAgentHandler(),
		khttp.NewHeadersInspectionHandler(),
	}
}

// limiterKey identifies the app and the service it talks to: Exchange's
// concurrency limit is per app and mailbox.
func limiterKey(cfg Config, target *url.URL) string {
	where := graphHost
	if target != nil {
		where = target.Host
	}
	return strings.ToLower(where + "|" + cfg.TenantID + "|" + cfg.ClientID)
}
