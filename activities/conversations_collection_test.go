package activities

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/corso-temporal/corso/m365"
)

// TestCollectionOfACategoryWithoutDeltaIsListedEveryTime: a conversation
// thread, whose category Graph has no delta for, is listed from the
// first backup on, never enumerated by delta; the next backup lists it
// again and downloads only the posts that are new or changed; and no
// backup reports it among the containers Graph refused delta for.
func TestCollectionOfACategoryWithoutDeltaIsListedEveryTime(t *testing.T) {
	f := newExchangeFixture(t, 7)
	f.cat = m365.Conversations
	full, _, err := f.run(nil, nil)
	require.NoError(t, err)
	require.Positive(t, f.src.lists, "the thread is listed")
	require.Equal(t, int64(7), full.Fetched)
	require.Equal(t, f.truth(), f.stored(full))
	require.False(t, full.Listed, "a category without delta is not a container Graph refused delta for")
	require.Empty(t, full.DeltaLink)

	// Nothing changed: nothing is downloaded.
	f.src.resetCounts()
	f.src.lists = 0
	same, _, err := f.run(previousOf(t, full), nil)
	require.NoError(t, err)
	require.Positive(t, f.src.lists, "the thread is listed again")
	require.Empty(t, f.src.fetches, "unchanged posts are reused")
	require.Equal(t, int64(7), same.Reused)
	require.Equal(t, f.truth(), f.stored(same))
	require.False(t, same.Listed)

	// A reply and an edit: only they are downloaded.
	f.src.put("item-new", "a reply")
	f.src.put("item-02", "edited post")
	f.src.resetCounts()
	inc, _, err := f.run(previousOf(t, same), nil)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"item-new": 1, "item-02": 1}, f.src.fetches)
	require.Equal(t, f.truth(), f.stored(inc))
	require.False(t, inc.Listed)
}
