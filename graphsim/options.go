package graphsim

import (
	"sync"
	"time"
)

// Options configure a Server. The zero value serves a small tenant with
// authentication on (client "graphsim-client", secret "graphsim-secret").
type Options struct {
	// Tenant shapes the generated tenant.
	Tenant TenantOptions

	// TenantID is the directory (tenant) id the token endpoint accepts in
	// its path, besides the tenant's domain. Empty derives a GUID from the seed.
	TenantID string
	// ClientID and ClientSecret are the only credentials the token endpoint
	// issues tokens for.
	ClientID     string
	ClientSecret string
	// DisableAuth accepts Graph calls without a bearer token.
	DisableAuth bool
	// AccessTokenTTL is the lifetime of issued access tokens (default 1h).
	AccessTokenTTL time.Duration
	// RevokeTokenAfter revokes, once per server lifetime, the access token
	// of the Graph request that follows this many authenticated Graph
	// requests: that request and every later one with the token answer 401
	// InvalidAuthenticationToken, while newly issued tokens work (see
	// transient.go). 0 means 200; -1 never. Never in Clean tenants.
	RevokeTokenAfter int

	// BaseURL is the address the simulator is served at, such as
	// "http://127.0.0.1:8910". Download URLs point here. Empty uses the
	// scheme and Host of each request.
	BaseURL string
	// GraphURL is the public Graph root used in @odata.nextLink and
	// @odata.deltaLink (default "https://graph.microsoft.com").
	GraphURL string

	// Clock supplies time for token expiry, throttle windows and generated
	// modification times; tests inject a ManualClock. Default: wall clock.
	Clock Clock

	// Delta configures delta-token lifetime and expiry answers.
	Delta DeltaOptions
	// Throttle configures throttling. The zero value applies Exchange's
	// per-mailbox concurrency limit of 4 and Teams' request rates (4 per
	// second per team, 20 channel message reads per second per tenant, ...),
	// as real Graph does; Throttle.Teams.Disabled turns Teams' off.
	Throttle ThrottleOptions
	// Faults configures injected faults; the zero value injects none.
	Faults FaultOptions
	// DownloadURLTTL is how long pre-authenticated download URLs stay valid
	// (default 1h).
	DownloadURLTTL time.Duration
}

// TenantOptions size the generated tenant. Everything in the tenant is a
// pure function of these options.
type TenantOptions struct {
	Seed int64
	// Users is the number of users (default 5). Some users have no mailbox
	// or no drive; user 0 always has both.
	Users int
	// ItemsPerUser is the number of generated items per user across mail,
	// contacts, events and drive files (default 100), split by Mix.
	ItemsPerUser int
	// Groups is the number of Microsoft 365 groups (default 2); each has a
	// team site and most are teams.
	Groups int
	// Sites is the number of standalone SharePoint sites (default 1): the
	// first is the root site, the others site1, site2, …; site1, site3,
	// site5, … hold further document libraries (tenant.go).
	Sites int
	// ItemsPerSite is the number of files in each site's default document
	// library (default ItemsPerUser); further libraries hold half as many.
	ItemsPerSite int
	// Domain is the tenant's primary domain (default "contoso.onmicrosoft.com").
	Domain string
	// MaxFileSize caps generated drive file sizes (default 32 MiB). A few
	// files per drive are large, up to this cap.
	MaxFileSize int64
	// MaxAttachmentSize caps generated mail attachment sizes (default 2 MiB).
	MaxAttachmentSize int64
	// Mix splits ItemsPerUser across services; zero fields use the defaults.
	Mix ItemMix
	// MailFolders, when set, is the number of custom mail folders of every
	// mailbox, instead of 3 plus one per 200 messages, at most 40 (see
	// mailLayout).
	MailFolders int
	// Clean leaves out the special resources that fail the way real tenants
	// do (see the package documentation): no special users, no Quirks site,
	// no personal or search site in GET /sites. For throughput benchmarks.
	// The zero value includes them, after the regular users and sites.
	Clean bool
}

// ItemMix gives relative weights of the item kinds in a user's share.
type ItemMix struct {
	Mail, Contacts, Events, Files float64
}

// DeltaOptions control when delta tokens stop being accepted.
type DeltaOptions struct {
	// TokenTTL expires tokens older than this (0: never by age).
	TokenTTL time.Duration
	// MaxLogEntries expires a token when more than this many changes were
	// logged in its collection since it was issued (0: unlimited). This models
	// Exchange evicting sync state.
	MaxLogEntries int
	// ExchangeCode is the error code of an expired Exchange token
	// (default "syncStateNotFound"; real services also send "resyncRequired"
	// and "SyncStateInvalid").
	ExchangeCode string
	// DriveCode is the inner error code of an expired drive token
	// (default "resyncChangesApplyDifferences").
	DriveCode string
}

func (o *Options) setDefaults() {
	t := &o.Tenant
	if t.Users <= 0 {
		t.Users = 5
	}
	if t.ItemsPerUser < 0 {
		t.ItemsPerUser = 0
	} else if t.ItemsPerUser == 0 {
		t.ItemsPerUser = 100
	}
	if t.Groups < 0 {
		t.Groups = 0
	} else if t.Groups == 0 {
		t.Groups = 2
	}
	if t.Sites < 0 {
		t.Sites = 0
	} else if t.Sites == 0 {
		t.Sites = 1
	}
	if t.ItemsPerSite <= 0 {
		t.ItemsPerSite = t.ItemsPerUser
	}
	if t.Domain == "" {
		t.Domain = "contoso.onmicrosoft.com"
	}
	if t.MaxFileSize <= 0 {
		t.MaxFileSize = 32 << 20
	}
	if t.MaxAttachmentSize <= 0 {
		t.MaxAttachmentSize = 2 << 20
	}
	if t.Mix == (ItemMix{}) {
		t.Mix = ItemMix{Mail: 0.55, Contacts: 0.10, Events: 0.10, Files: 0.25}
	}
	if o.ClientID == "" {
		o.ClientID = "graphsim-client"
	}
	if o.ClientSecret == "" {
		o.ClientSecret = "graphsim-secret"
	}
	if o.AccessTokenTTL <= 0 {
		o.AccessTokenTTL = time.Hour
	}
	if o.GraphURL == "" {
		o.GraphURL = "https://graph.microsoft.com"
	}
	if o.Clock == nil {
		o.Clock = wallClock{}
	}
	if o.DownloadURLTTL <= 0 {
		o.DownloadURLTTL = time.Hour
	}
	if o.Delta.ExchangeCode == "" {
		o.Delta.ExchangeCode = "syncStateNotFound"
	}
	if o.Delta.DriveCode == "" {
		o.Delta.DriveCode = "resyncChangesApplyDifferences"
	}
	o.Throttle.setDefaults()
}

// Clock tells the simulator what time it is. Implementations that also have
// a Sleep(time.Duration) method are used for injected latency and bandwidth
// limits, so a test clock can make those instantaneous.
type Clock interface {
	Now() time.Time
}

type wallClock struct{}

func (wallClock) Now() time.Time        { return time.Now() }
func (wallClock) Sleep(d time.Duration) { time.Sleep(d) }

// ManualClock is a Clock that moves only when told to. Its Sleep advances the
// clock instead of waiting, so tests never race timers.
type ManualClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewManualClock returns a clock set to t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{t: t} }

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Sleep advances the clock by d without waiting.
func (c *ManualClock) Sleep(d time.Duration) { c.Advance(d) }

func sleepOn(c Clock, d time.Duration) {
	if d <= 0 {
		return
	}
	if s, ok := c.(interface{ Sleep(time.Duration) }); ok {
		s.Sleep(d)
		return
	}
	time.Sleep(d)
}
