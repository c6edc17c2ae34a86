package graphsim

import (
	"net/http"
	"strings"
	"time"
)

// Teams' service limits, from "Microsoft Teams service limits" in Graph's
// throttling documentation
// (https://learn.microsoft.com/graph/throttling-limits#microsoft-teams-service-limits,
// source: https://github.com/microsoftgraph/microsoft-graph-docs-contrib/blob/main/concepts/throttling-limits.md),
// for the calls a backup makes, per app (the simulator serves one):
//
//	A maximum of 4 requests per second per app can be issued on a given team or channel.
//	GET /teams/{team-id}, joinedTeams          30 rps per app per tenant
//	GET team, channel, tab, ...                30 rps per app per tenant
//	GET /teams/{team-id}/channels              60 rps per app per tenant
//	GET channel message                        20 rps per app per tenant
//
// Their "per app across all tenants" column (200 rps for channel messages,
// and so on) never binds a single tenant below its own limit, and Graph's
// global 130,000 requests per 10 seconds per app neither; both are left out.
//
// What the documentation does not say, and is chosen here:
//   - how a rate is measured: each limit is a token bucket that holds one
//     second's worth of requests and refills at the rate, so a client may
//     burst up to a second's worth after a pause but never sustain more;
//   - whether "on a given team or channel" is one limit per team covering
//     its channels or one per channel: every request under /teams/{id}
//     counts toward that team, the stricter reading;
//   - whether listing channel messages, their delta and their replies are
//     "GET channel message" or "Other GET API calls" (30 rps): they count as
//     channel message reads, the stricter reading;
//   - the answer: 429 with Graph's error envelope, code TooManyRequests, and
//     a Retry-After of the whole seconds until a request would pass (Graph's
//     throttling guidance, https://learn.microsoft.com/graph/throttling, says
//     throttled answers carry Retry-After; Teams' exact code is not
//     documented);
//   - whether a throttled request costs anything: it takes no token.
type TeamsLimits struct {
	// Disabled turns every Teams limit off.
	Disabled bool
	// PerTeam is the requests per second on one team (default 4).
	PerTeam float64
	// ChannelMessages is the tenant's rate of GET channel message calls:
	// single messages and replies, message lists and deltas (default 20).
	ChannelMessages float64
	// Channels is the tenant's rate of channel listings (default 60).
	Channels float64
	// TeamGets is the tenant's rate of GET team and GET channel (default 30).
	TeamGets float64
}

// A negative field disables that limit; zero means the documented one.
func (l *TeamsLimits) setDefaults() {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&l.PerTeam, 4)
	def(&l.ChannelMessages, 20)
	def(&l.Channels, 60)
	def(&l.TeamGets, 30)
}

// teamsTenantClass is the per-tenant limit a Teams route falls under, ""
// for none of those modelled.
func teamsTenantClass(rq *request) string {
	if rq.r.Method != http.MethodGet {
		return ""
	}
	switch rq.route.class {
	case "teams.messages", "teams.messages.delta", "teams.message", "teams.replies", "teams.reply",
		"teams.hostedContents", "teams.hostedContent", "teams.hostedContent.value":
		return "channelMessages"
	case "teams.channels":
		return "channels"
	case "teams.get", "teams.channel":
		return "teamGets"
	}
	return ""
}

func (l TeamsLimits) tenantRate(class string) float64 {
	switch class {
	case "channelMessages":
		return l.ChannelMessages
	case "channels":
		return l.Channels
	case "teamGets":
		return l.TeamGets
	}
	return 0
}

// teamOf is the team a request works on, "" outside /teams/{id}.
func teamOf(rq *request) string {
	if len(rq.segs) < 2 || !strings.EqualFold(rq.segs[0], "teams") {
		return ""
	}
	return strings.ToLower(rq.params["group"])
}

// tokenBucket holds up to one second's worth of requests at its rate.
type tokenBucket struct {
	tokens float64
	at     time.Time
}

// refill brings the bucket to now and returns how long until it holds a
// whole token (0 if it does).
func (b *tokenBucket) refill(now time.Time, rate float64) time.Duration {
	capacity := max(rate, 1)
	if b.at.IsZero() {
		b.tokens = capacity
	} else if d := now.Sub(b.at); d > 0 {
		b.tokens = min(capacity, b.tokens+d.Seconds()*rate)
	}
	if now.After(b.at) {
		b.at = now
	}
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) / rate * float64(time.Second))
}

// teamsBuckets are the Teams limits' state.
type teamsBuckets struct {
	perTeam map[string]*tokenBucket
	tenant  map[string]*tokenBucket
}

func newTeamsBuckets() teamsBuckets {
	return teamsBuckets{perTeam: map[string]*tokenBucket{}, tenant: map[string]*tokenBucket{}}
}

func bucketIn(m map[string]*tokenBucket, k string) *tokenBucket {
	b := m[k]
	if b == nil {
		b = &tokenBucket{}
		m[k] = b
	}
	return b
}

// admitTeams applies Teams' limits to a request: nil if it may run, else
// the 429 to answer. The caller holds t.mu.
func (t *throttler) admitTeams(rq *request, now time.Time, o ThrottleOptions) *apiError {
	l := o.Teams
	if l.Disabled {
		return nil
	}
	var holds []*tokenBucket
	var wait time.Duration
	var over string
	take := func(b *tokenBucket, rate float64, what string) {
		if rate <= 0 {
			return
		}
		if d := b.refill(now, rate); d > wait {
			wait, over = d, what
		}
		holds = append(holds, b)
	}
	if team := teamOf(rq); team != "" {
		take(bucketIn(t.teams.perTeam, team), l.PerTeam, "its limit of requests per second on this team")
	}
	if class := teamsTenantClass(rq); class != "" {
		take(bucketIn(t.teams.tenant, class), l.tenantRate(class), "its limit of requests per second of this kind in this tenant")
	}
	if wait > 0 {
		t.s.stats.throttledOne(http.StatusTooManyRequests)
		return throttleError(http.StatusTooManyRequests, "TooManyRequests",
			"Too many requests: the application is over "+over+".", t.retryAfter(o, wait), o.OmitRetryAfter)
	}
	for _, b := range holds {
		b.tokens--
	}
	return nil
}
