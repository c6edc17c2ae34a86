package graphsim

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// ThrottleOptions model Graph's service limits. Exchange limits apply per
// mailbox (the app is implicit: the simulator serves one); drive limits are
// resource units per tenant, with SharePoint's costs: 1 for a single item,
// a download or a delta with a token, 2 for listings, a delta without a
// token and writes, 5 for permission calls; Teams limits are requests per
// second per team and per tenant (teams_throttle.go).
type ThrottleOptions struct {
	// MailboxConcurrency rejects an Exchange request when this many are
	// already in flight for the same mailbox, immediately with 429
	// ApplicationThrottled, as Exchange does. 0 means Exchange's 4;
	// negative disables the limit.
	MailboxConcurrency int
	// MailboxRequests is the request budget per mailbox per MailboxWindow
	// (Exchange: 10,000 per 10 minutes). 0 disables it.
	MailboxRequests int
	MailboxWindow   time.Duration
	// DriveResourceUnits is the tenant's drive budget per DriveWindow
	// (SharePoint: 1,250 a minute per app up to 1,000 licences; refused
	// requests count toward it too, and RateLimit headers come from 80% of
	// it on: "Avoid getting throttled or blocked in SharePoint Online",
	// https://learn.microsoft.com/sharepoint/dev/general-development/how-to-avoid-getting-throttled-or-blocked-in-sharepoint-online).
	// 0 disables it.
	DriveResourceUnits int
	DriveWindow        time.Duration
	// Use503 answers drive throttling with 503 instead of 429.
	Use503 bool
	// RetryAfter overrides the Retry-After value (default: until the window
	// frees, at least one second). OmitRetryAfter sends none, as some Graph
	// services do.
	RetryAfter     time.Duration
	OmitRetryAfter bool
	// Teams are Teams' rate limits; the zero value applies the
	// documented ones.
	Teams TeamsLimits
}

func (o *ThrottleOptions) setDefaults() {
	if o.MailboxConcurrency == 0 {
		o.MailboxConcurrency = 4
	}
	if o.MailboxWindow <= 0 {
		o.MailboxWindow = 10 * time.Minute
	}
	if o.DriveWindow <= 0 {
		o.DriveWindow = time.Minute
	}
	o.Teams.setDefaults()
}

type throttler struct {
	s        *Server
	mu       sync.Mutex
	opts     ThrottleOptions
	inflight map[int]int
	mailbox  map[int]windowCount
	drive    driveWindow
	teams    teamsBuckets
}

// driveWindow is the tenant's drive budget in one window: units charged
// to every request (n, which decides throttling), to those let through,
// and the requests refused.
type driveWindow struct {
	window                       int64
	n, let, letRequests, refused int
}

// record is the window as Stats reports it.
func (w driveWindow) record(length time.Duration, open bool) DriveWindow {
	return DriveWindow{Start: time.Unix(0, w.window*int64(length)).UTC(), Units: w.let, Requests: w.letRequests, Refused: w.refused, Open: open}
}

// openDriveWindow is the drive budget's current window, if any.
func (t *throttler) openDriveWindow() (DriveWindow, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.drive.window == 0 {
		return DriveWindow{}, false
	}
	return t.drive.record(t.opts.DriveWindow, true), true
}

type windowCount struct {
	window int64
	n      int
}

func newThrottler(s *Server, o ThrottleOptions) *throttler {
	return &throttler{s: s, opts: o, inflight: map[int]int{}, mailbox: map[int]windowCount{}, teams: newTeamsBuckets()}
}

func (t *throttler) set(o ThrottleOptions) {
	o.setDefaults()
	t.mu.Lock()
	t.opts = o
	t.mailbox = map[int]windowCount{}
	t.drive = driveWindow{}
	t.teams = newTeamsBuckets()
	t.mu.Unlock()
}

func (t *throttler) get() ThrottleOptions {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.opts
}

// driveCost is the resource-unit cost of a drive request.
func driveCost(rq *request) int {
	switch {
	case rq.route.class == "drive.permissions" || rq.route.class == "drive.invite":
		return 5
	case rq.route.class == "drive.delta" || rq.route.class == "lists.items.delta":
		if rq.q != nil && (rq.q.token != "" || rq.q.skiptoken != "" || rq.fnArgs["token"] != "") {
			return 1
		}
		return 2
	case rq.route.class == "drive.children" || rq.route.class == "lists.list" || rq.route.class == "lists.columns" ||
		rq.route.class == "lists.items" || rq.route.class == "lists.item.versions":
		return 2
	case rq.r.Method != http.MethodGet && rq.r.Method != http.MethodHead:
		return 2
	}
	return 1
}

// admit decides whether a request may run. The returned release must be
// called when it finishes.
func (t *throttler) admit(rq *request) (func(), *apiError) {
	now := t.s.now()
	t.mu.Lock()
	o := t.opts
	switch {
	case rq.route.service == "teams" || rq.route.class == "teams.get":
		err := t.admitTeams(rq, now, o)
		t.mu.Unlock()
		if err != nil {
			return nil, err
		}
		return func() {}, nil
	case rq.mailbox >= 0:
		mb := rq.mailbox
		// Throttled requests count toward the budget, as in Graph.
		if o.MailboxRequests > 0 {
			w := now.UnixNano() / int64(o.MailboxWindow)
			c := t.mailbox[mb]
			if c.window != w {
				c = windowCount{window: w}
			}
			c.n++
			t.mailbox[mb] = c
			if c.n > o.MailboxRequests {
				t.mu.Unlock()
				wait := time.Duration((w+1)*int64(o.MailboxWindow) - now.UnixNano())
				t.s.stats.throttledOne(http.StatusTooManyRequests)
				return nil, throttleError(http.StatusTooManyRequests, "ApplicationThrottled",
					"Application is over its MailboxRequests limit.", t.retryAfter(o, wait), o.OmitRetryAfter)
			}
		}
		if o.MailboxConcurrency > 0 && t.inflight[mb] >= o.MailboxConcurrency {
			t.mu.Unlock()
			t.s.stats.throttledOne(http.StatusTooManyRequests)
			return nil, throttleError(http.StatusTooManyRequests, "ApplicationThrottled",
				"Application is over its MailboxConcurrency limit.", t.retryAfter(o, time.Second), o.OmitRetryAfter)
		}
		t.inflight[mb]++
		t.mu.Unlock()
		return func() {
			t.mu.Lock()
			t.inflight[mb]--
			t.mu.Unlock()
		}, nil
	case rq.route.service == "drive":
		cost := driveCost(rq)
		rq.w.Header().Set("x-ms-resource-unit", strconv.Itoa(cost))
		if o.DriveResourceUnits > 0 {
			w := now.UnixNano() / int64(o.DriveWindow)
			if t.drive.window != w {
				if t.drive.window != 0 {
					t.s.stats.driveWindowClosed(t.drive.record(o.DriveWindow, false))
				}
				t.drive = driveWindow{window: w}
			}
			t.drive.n += cost
			used := t.drive.n
			if used > o.DriveResourceUnits {
				t.drive.refused++
			} else {
				t.drive.let += cost
				t.drive.letRequests++
			}
			t.mu.Unlock()
			wait := time.Duration((w+1)*int64(o.DriveWindow) - now.UnixNano())
			reset := int(math.Ceil(wait.Seconds()))
			if used*5 >= o.DriveResourceUnits*4 {
				h := rq.w.Header()
				h.Set("RateLimit-Limit", strconv.Itoa(o.DriveResourceUnits))
				h.Set("RateLimit-Remaining", strconv.Itoa(max(o.DriveResourceUnits-used, 0)))
				h.Set("RateLimit-Reset", strconv.Itoa(reset))
			}
			if used > o.DriveResourceUnits {
				status := http.StatusTooManyRequests
				if o.Use503 {
					status = http.StatusServiceUnavailable
				}
				t.s.stats.throttledOne(status)
				e := throttleError(status, "activityLimitReached", "The request has been throttled", t.retryAfter(o, wait), o.OmitRetryAfter)
				e.innerCode = "throttledRequest"
				return nil, e
			}
			return func() {}, nil
		}
	}
	t.mu.Unlock()
	return func() {}, nil
}

func (t *throttler) retryAfter(o ThrottleOptions, wait time.Duration) time.Duration {
	if o.RetryAfter > 0 {
		return o.RetryAfter
	}
	return max(wait, time.Second)
}

// throttleError is a 429/503 with Graph's body and an integer Retry-After.
func throttleError(status int, code, msg string, retry time.Duration, omit bool) *apiError {
	e := newError(status, code, "%s", msg)
	if !omit {
		e.with("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
	}
	return e
}
