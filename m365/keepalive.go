package m365

import "context"

// A request may wait long before it is sent: for its share of a mailbox's
// or a team's rate when the budget is small. Such a wait says nothing about
// the worker's health, so the activity that makes the request keeps
// telling Temporal it is alive meanwhile, through the hook the worker puts
// in its context; the hook repeats the activity's last checkpoint rather
// than replacing it.

type keepAliveKey struct{}

// WithKeepAlive marks ctx with start, which keeps the activity alive
// until the stop it returns is called.
func WithKeepAlive(ctx context.Context, start func() (stop func())) context.Context {
	return context.WithValue(ctx, keepAliveKey{}, start)
}

// KeepAlive keeps the activity of ctx alive until stop is called; without
// a hook it does nothing.
func KeepAlive(ctx context.Context) (stop func()) {
	if start, ok := ctx.Value(keepAliveKey{}).(func() func()); ok {
		return start()
	}
	return func() {}
}
