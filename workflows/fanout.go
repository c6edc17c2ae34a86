package workflows

import "go.temporal.io/sdk/workflow"

// fanOut runs n units of work of one resource, in order, each started with
// its share of the resource's request budget and as many at once as the
// budget allows. start schedules unit i with c concurrent requests; done
// takes its outcome. After the first error no more units start; the ones
// running are waited for, and that error is returned.
func fanOut(ctx workflow.Context, n, budget int, share func(i, used int) int,
	start func(i, c int) workflow.Future, done func(i int, f workflow.Future) error,
) error {
	sel := workflow.NewSelector(ctx)
	var firstErr error
	inFlight, used := 0, 0
	for i := 0; i < n && firstErr == nil; {
		c := share(i, used)
		if used+c > budget {
			sel.Select(ctx)
			inFlight--
			continue
		}
		idx := i
		sel.AddFuture(start(idx, c), func(f workflow.Future) {
			used -= c
			if err := done(idx, f); err != nil && firstErr == nil {
				firstErr = err
			}
		})
		used += c
		inFlight++
		i++
	}
	for ; inFlight > 0; inFlight-- {
		sel.Select(ctx)
	}
	return firstErr
}
