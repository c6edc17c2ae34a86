package m365

import (
	"context"
	"sync"

	"golang.org/x/time/rate"
)

// A resource whose service limits the requests an app makes on it per
// second (a team: Teams allows four a second on a team or channel) is
// shared by the activities backing it up the way a mailbox's concurrency
// is: each activity holds a share of the resource's request budget, and
// the shares of those running at once, on whichever workers, never add up
// to more than the budget. An activity's Graph requests on the resource are
// paced to the same share of the resource's rate, so the fleet's requests
// on it stay within the limit.

// RequestShare is an activity's share of a resource's request budget.
type RequestShare struct {
	n, of int
	once  sync.Once
	lim   *rate.Limiter
}

type requestShareKey struct{}

// WithRequestShare marks ctx as the work of an activity holding n of a
// resource's budget of `of` requests (at least one, at most all).
func WithRequestShare(ctx context.Context, n, of int) context.Context {
	of = max(1, of)
	return context.WithValue(ctx, requestShareKey{}, &RequestShare{n: min(max(1, n), of), of: of})
}

// RequestShareOf returns the share ctx was marked with, nil if none.
func RequestShareOf(ctx context.Context) *RequestShare {
	s, _ := ctx.Value(requestShareKey{}).(*RequestShare)
	return s
}

// Wait blocks until the share may make one more request on a resource that
// allows perSecond requests a second in all, or ctx ends. Every request
// made under the share waits here, so the share's rate is n/of of
// perSecond, without bursts. The first request waits its turn too: an
// activity that starts as another ends must not add a request to the
// second the other has used.
func (s *RequestShare) Wait(ctx context.Context, perSecond float64) error {
	s.once.Do(func() {
		s.lim = rate.NewLimiter(rate.Limit(perSecond*float64(s.n)/float64(s.of)), 1)
		s.lim.Allow() // the token a new limiter starts with
	})
	return s.lim.Wait(ctx)
}

// Fraction is the part of the resource's budget the share holds.
func (s *RequestShare) Fraction() float64 { return float64(s.n) / float64(s.of) }
