package activities

import (
	"context"
	"io"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/corso-temporal/corso/m365"
)

// shareRecorder is a source that records the request share each call
// carries.
type shareRecorder struct {
	Client
	mu     sync.Mutex
	shares map[*m365.RequestShare]int
	calls  int
}

func (r *shareRecorder) saw(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if s := m365.RequestShareOf(ctx); s != nil {
		r.shares[s]++
	}
}

func (r *shareRecorder) DeltaPage(ctx context.Context, mbx string, cat m365.Category, id, link string) (m365.Page, error) {
	r.saw(ctx)
	return r.Client.DeltaPage(ctx, mbx, cat, id, link)
}

func (r *shareRecorder) FetchItemIn(ctx context.Context, mbx string, cat m365.Category, cid, id string) (io.ReadCloser, error) {
	r.saw(ctx)
	return r.Client.FetchItemIn(ctx, mbx, cat, cid, id)
}

// The share of the resource's request budget a collection's activity is
// given reaches every Graph call it makes, one share for the whole
// activity, so that the client paces them together (graph/pacing.go).
func TestCollectionActivitiesCarryTheirRequestShareToGraph(t *testing.T) {
	f := newExchangeFixture(t, 7)
	f.cat = m365.ChannelMessages
	rec := &shareRecorder{Client: f.src, shares: map[*m365.RequestShare]int{}}
	f.a.NewClient = func(string, string, string) (Client, error) { return rec, nil }
	_, _, err := f.run(nil, nil) // Concurrency 3
	require.NoError(t, err)
	require.Len(t, rec.shares, 1, "one share for the activity's calls")
	for s, n := range rec.shares {
		require.Equal(t, rec.calls, n, "every call carries the share")
		require.InDelta(t, 3.0/4, s.Fraction(), 1e-9)
	}

	f = newExchangeFixture(t, 0) // clients are cached per tenant and app
	src := newFakeFolders(map[string]int{"general": 4, "random": 3})
	rec = &shareRecorder{Client: src, shares: map[*m365.RequestShare]int{}}
	f.a.NewClient = func(string, string, string) (Client, error) { return rec, nil }
	_, _, err = f.runTogether(plansOf([]string{"general", "random"}, nil, t), nil) // Concurrency 2
	require.NoError(t, err)
	require.Len(t, rec.shares, 1, "the collections backed up together share one")
	for s, n := range rec.shares {
		require.Equal(t, rec.calls, n)
		require.InDelta(t, 2.0/4, s.Fraction(), 1e-9)
	}
}
