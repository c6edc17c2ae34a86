package workflows

import (
	"cmp"
	"slices"
)

// Bounds of a large mailbox's backup (collectionGroupsChange): what one
// payload and one history hold stays the same however many folders the
// mailbox has.
const (
	// InlineCollections is how many collections a mailbox's plan holds
	// inline; the plan of a mailbox of more is stored in groups. Below
	// it, every plan, result and heartbeat fits well within a payload
	// (about 1 KiB a collection, delta link included) and the history
	// holds a few events a collection.
	InlineCollections = 100
	// groupCollections bounds a group: its heartbeat names every one of
	// its collections' checkpoints and results.
	groupCollections = InlineCollections
	// groupItems bounds the items of the new collections packed into one
	// group, so that a group is about as much work as a big collection.
	groupItems = 2000
	// ownGroupItems: a new collection of this many items or more is a
	// group of its own, with its own share of the request budget.
	ownGroupItems = 1000
)

// PackCollections splits a mailbox's collections, in plan order (biggest
// first), into groups each backed up by one activity, and gives each
// group's weight for its share of the request budget. Collections
// resuming from a delta link mostly find a handful of changes: they go
// groupCollections to a group, weighted one per collection. A new
// collection of ownGroupItems items or more is a group of its own; the
// other new ones are packed in order while the group holds fewer than
// groupCollections and at most groupItems items, weighted by their items.
// The groups come biggest first, as budgetShares wants them, so the
// number of groups is at most about collections/groupCollections +
// 2·items/ownGroupItems.
func PackCollections(plans []CollectionPlan) (groups [][]CollectionPlan, weights []int64) {
	packed, weights := packCollections(plans)
	for _, g := range packed {
		gp := make([]CollectionPlan, len(g))
		for k, i := range g {
			gp[k] = plans[i]
		}
		groups = append(groups, gp)
	}
	return groups, weights
}

// packCollections is PackCollections by plan index.
func packCollections(plans []CollectionPlan) (groups [][]int, weights []int64) {
	type group struct {
		plans  []int
		weight int64
	}
	var out []group
	resuming, packing := -1, -1 // the groups being filled
	for i, p := range plans {
		switch {
		case p.Previous != nil && p.Previous.DeltaLink != "":
			if resuming < 0 || len(out[resuming].plans) == groupCollections {
				out = append(out, group{})
				resuming = len(out) - 1
			}
			out[resuming].plans = append(out[resuming].plans, i)
			out[resuming].weight++
		case p.Container.ItemCount >= ownGroupItems:
			out = append(out, group{plans: []int{i}, weight: p.Container.ItemCount})
		default:
			if packing < 0 || len(out[packing].plans) == groupCollections || out[packing].weight+p.Container.ItemCount > groupItems {
				out = append(out, group{})
				packing = len(out) - 1
			}
			out[packing].plans = append(out[packing].plans, i)
			out[packing].weight += p.Container.ItemCount
		}
	}
	slices.SortStableFunc(out, func(a, b group) int { return cmp.Compare(b.weight, a.weight) })
	for _, g := range out {
		groups = append(groups, g.plans)
		weights = append(weights, g.weight)
	}
	return groups, weights
}
