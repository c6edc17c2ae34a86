package graph

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/corso-temporal/corso/m365"
)

// Exchange limits the requests an app makes on one mailbox to about
// 10,000 per 10 minutes besides four at once ("Outlook service limits",
// https://learn.microsoft.com/graph/throttling-limits#outlook-service-limits),
// and answers those beyond with 429 until the window frees. A mailbox's
// requests are paced the same way as a team's: at the share of the
// mailbox's rate that the activity making them holds, so that a fleet
// backing up many mailboxes at once stays within each one's budget
// rather than learning it from 429s. Requests on a mailbox outside such an
// activity (planning lists its folders before its collections start) are
// spaced at the mailbox's whole rate in the process (mailboxPace).
//
// Teams limits requests by rate rather than concurrency ("Microsoft Teams
// service limits", https://learn.microsoft.com/graph/throttling-limits#microsoft-teams-service-limits):
// an app may make four requests a second on a team or channel, and twenty
// GET channel message requests a second in a tenant, over all its teams.
//
// A team's requests are paced at the share of the team's rate that the
// activity making them holds (m365.RequestShare: its share of
// workflows.MailboxRequestBudget, the shares of a team's activities in
// flight never adding up to more than the budget), so the fleet's
// requests on a team stay within its rate. Requests outside such an
// activity (planning lists a team's channels once) are not paced. Reads of
// channel messages also spend the tenant's Teams budget, which the fleet
// shares like SharePoint's resource units (TeamsBudget).

// DefaultTeamRequestsPerSecond is Teams' limit of requests per second per
// app on one team or channel.
const DefaultTeamRequestsPerSecond = 4

// DefaultMailboxRequestsPerMinute is Exchange's budget of requests per
// app and mailbox, 10,000 per 10 minutes, as a rate.
const DefaultMailboxRequestsPerMinute = 1000

// mailboxPaceShare is the part of a mailbox's budget its requests are
// paced to. Exchange counts requests as they arrive, not as they were
// sent: a request held up on its way (a busy worker, a slow network)
// arrives closer to the next than it was sent, so requests paced at
// exactly the budget are throttled whenever one is late at the turn of
// Exchange's window. Pacing at 95% lets a request arrive up to 5% of the
// window (30 s of Exchange's 10 minutes) late without it. Corso paces
// Exchange at 96% of the budget for the same reason (16 requests a second
// against 10,000 per 10 minutes, "better to give the limits breathing room").
const mailboxPaceShare = 0.95

// TeamsBudget meters the channel message reads Teams allows an app per
// tenant. Every read spends one unit first; a fleet of workers shares one
// tenant's budget through it.
type TeamsBudget interface {
	// Spend blocks until units may be spent, or ctx ends.
	Spend(ctx context.Context, units int) error
	// Throttled reports that Teams throttled a read for d.
	Throttled(d time.Duration)
}

type teamKey struct{}

// forTeam marks ctx as work on a team: the team's pacing applies, and its
// requests share the per-resource slots mailboxes use, which bounds them
// within the process too.
func forTeam(ctx context.Context, teamID, kind string) context.Context {
	return context.WithValue(forMailbox(ctx, teamID, kind), teamKey{}, teamID)
}

func teamOf(ctx context.Context) string {
	s, _ := ctx.Value(teamKey{}).(string)
	return s
}

// channelMessageRead tells the request kinds Teams counts as "GET channel
// message": a message, its replies, a channel's message list or delta,
// and the hosted contents (inline images) of a message, which are read
// at a message's address and with its permission (ChannelMessage.Read),
// so they are counted too rather than risk the tenant's rate.
func channelMessageRead(req *http.Request) bool {
	if req.Method != http.MethodGet {
		return false
	}
	switch kindOf(req.Context()) {
	case "teams.message", "teams.replies", "teams.messages.list", "teams.messages.delta", "teams.hostedContents":
		return true
	}
	return false
}

// resourcePacing paces requests on teams and mailboxes.
type resourcePacing struct {
	// perSecond is the rate the whole of a team's budget stands for.
	perSecond float64
	budget    TeamsBudget
	// mailboxPerSecond is the rate a mailbox's whole budget is paced
	// to, mailboxPaceShare of the budget; zero leaves mailboxes to their
	// four slots and Retry-After.
	mailboxPerSecond float64
	// unshared spaces mailbox requests made outside an activity's share.
	unshared *mailboxPace
}

// wait blocks until req may be sent as far as the rate limits of its
// resource go: on a team, the activity's share of the team's rate, then
// the tenant's budget of channel message reads; on a mailbox, the
// activity's share of the mailbox's rate.
func (p resourcePacing) wait(req *http.Request) error {
	ctx := req.Context()
	if teamOf(ctx) == "" {
		mailbox := mailboxOf(ctx)
		if p.mailboxPerSecond <= 0 || mailbox == "" {
			return nil
		}
		return keptAlive(ctx, keepAliveAfter, func() error {
			if s := m365.RequestShareOf(ctx); s != nil {
				return s.Wait(ctx, p.mailboxPerSecond)
			}
			if p.unshared != nil {
				return p.unshared.wait(ctx, mailbox, p.mailboxPerSecond)
			}
			return nil
		})
	}
	if s := m365.RequestShareOf(ctx); s != nil {
		if err := s.Wait(ctx, p.perSecond); err != nil {
			return err
		}
	}
	if p.budget != nil && channelMessageRead(req) {
		return p.budget.Spend(ctx, 1)
	}
	return nil
}

// throttled tells the tenant's budget that Teams throttled a channel
// message read for d: the fleet reads more than Teams allows (other
// clients of the app, a budget set too high) and pauses.
func (p resourcePacing) throttled(req *http.Request, d time.Duration) {
	if p.budget != nil && req != nil && teamOf(req.Context()) != "" && channelMessageRead(req) {
		p.budget.Throttled(d)
	}
}

// keepAliveAfter is how long a request waits for its turn before its
// activity is kept alive (m365.KeepAlive): well inside the heartbeat
// timeouts of activities, and longer than the waits of Exchange's and
// Teams' own rates, which then cost nothing more.
const keepAliveAfter = 5 * time.Second

// keptAlive runs wait, keeping the activity of ctx alive once it has
// waited `after`: a mailbox's budget time-scaled or set low makes a
// request wait longer than its activity's heartbeat timeout.
func keptAlive(ctx context.Context, after time.Duration, wait func() error) error {
	var (
		mu   sync.Mutex
		done bool
		stop func()
	)
	t := time.AfterFunc(after, func() {
		mu.Lock()
		defer mu.Unlock()
		if !done {
			stop = m365.KeepAlive(ctx)
		}
	})
	err := wait()
	t.Stop()
	mu.Lock()
	done = true
	if stop != nil {
		stop()
	}
	mu.Unlock()
	return err
}

// mailboxPace spaces requests on each mailbox at the mailbox's whole rate:
// the next may go one interval after the last. It is shared by the
// clients of one app in the process, as their slots are (limiter.go). A
// mailbox's entry is dropped once its next request could go at once,
// which is what a new entry allows, so the map holds only the mailboxes
// paced in the last interval.
type mailboxPace struct {
	mu   sync.Mutex
	next map[string]time.Time
	// sweepAt is the size of next from which it is swept of entries past.
	sweepAt int
}

var (
	pacesMu sync.Mutex
	paces   = map[string]*mailboxPace{}
)

// sharedMailboxPace returns the process-wide pacing of the app key names.
func sharedMailboxPace(key string) *mailboxPace {
	pacesMu.Lock()
	defer pacesMu.Unlock()
	p, ok := paces[key]
	if !ok {
		p = &mailboxPace{next: map[string]time.Time{}, sweepAt: 64}
		paces[key] = p
	}
	return p
}

// wait blocks until mailbox may take one more request at perSecond, or
// ctx ends.
func (p *mailboxPace) wait(ctx context.Context, mailbox string, perSecond float64) error {
	key := strings.ToLower(mailbox)
	now := time.Now()
	p.mu.Lock()
	at := p.next[key]
	if at.Before(now) {
		at = now
	}
	p.next[key] = at.Add(time.Duration(float64(time.Second) / perSecond))
	if len(p.next) >= p.sweepAt {
		for k, t := range p.next {
			if !t.After(now) {
				delete(p.next, k)
			}
		}
		p.sweepAt = max(64, 2*len(p.next))
	}
	p.mu.Unlock()
	d := at.Sub(now)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
