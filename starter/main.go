// Command corso is the CLI: it validates input, submits workflows to
// Temporal, waits for them and prints the results. The work itself runs on
// corso-worker processes.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// The first Ctrl-C or SIGTERM cancels the command, so it returns and
	// removes what it made (an export's temporary repository cache, for
	// one); a second one stops the process at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() { <-ctx.Done(); stop() }()
	err := newRootCommand().ExecuteContext(ctx)
	stop()
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			err = errors.New("interrupted; work already submitted goes on in Temporal (see the Web UI)")
		}
		fmt.Fprintln(os.Stderr, "corso:", oneLine(err))
		os.Exit(1)
	}
}
