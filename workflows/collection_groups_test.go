package workflows

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/corso-temporal/corso/m365"
)

func TestPackCollections(t *testing.T) {
	plan := func(id string, items int64, resumes bool) CollectionPlan {
		p := CollectionPlan{Container: m365.Container{ID: id, ItemCount: items}}
		if resumes {
			p.Previous = &PreviousCollection{DeltaLink: "link"}
		}
		return p
	}
	ids := func(groups [][]CollectionPlan) [][]string {
		var out [][]string
		for _, g := range groups {
			var ids []string
			for _, p := range g {
				ids = append(ids, p.Container.ID)
			}
			out = append(out, ids)
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		plans   []CollectionPlan
		groups  [][]string
		weights []int64
	}{
		{"a big new folder alone, small ones packed by items",
			[]CollectionPlan{plan("big", 1500, false), plan("a", 900, false), plan("b", 900, false), plan("c", 300, false), plan("d", 10, false)},
			[][]string{{"a", "b"}, {"big"}, {"c", "d"}}, []int64{1800, 1500, 310}},
		{"resuming folders together, weighted one each",
			[]CollectionPlan{plan("a", 900, true), plan("n", 20, false), plan("b", 5, true)},
			[][]string{{"n"}, {"a", "b"}}, []int64{20, 2}},
		{"unknown sizes packed",
			[]CollectionPlan{plan("x", 0, false), plan("y", 0, false)},
			[][]string{{"x", "y"}}, []int64{0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			groups, weights := PackCollections(tc.plans)
			require.Equal(t, tc.groups, ids(groups))
			require.Equal(t, tc.weights, weights)
		})
	}

	t.Run("3,000 folders", func(t *testing.T) {
		var plans []CollectionPlan
		var items int64
		for i := range 3000 {
			n := int64(3000 - i) // biggest first, as planned
			if i > 20 {
				n = int64(i % 7)
			}
			items += n
			plans = append(plans, plan(fmt.Sprint(i), n, i%3 == 0))
		}
		groups, weights := PackCollections(plans)
		seen := map[string]bool{}
		for i, g := range groups {
			require.LessOrEqual(t, len(g), groupCollections)
			var w int64
			for _, p := range g {
				require.False(t, seen[p.Container.ID], "folder %s in two groups", p.Container.ID)
				seen[p.Container.ID] = true
				if p.Previous != nil {
					w++
				} else {
					w += p.Container.ItemCount
				}
				if len(g) > 1 && p.Previous == nil {
					require.Less(t, p.Container.ItemCount, int64(ownGroupItems), "a big folder is never packed")
				}
			}
			require.Equal(t, w, weights[i])
			if len(g) > 1 && g[0].Previous == nil {
				require.LessOrEqual(t, w, int64(groupItems))
			}
			if i > 0 {
				require.LessOrEqual(t, weights[i], weights[i-1], "biggest first")
			}
		}
		require.Len(t, seen, 3000)
		require.LessOrEqual(t, len(groups), 3000/groupCollections+2*int(items)/ownGroupItems+2)
		t.Logf("%d groups for 3,000 folders of %d items", len(groups), items)
	})
}
