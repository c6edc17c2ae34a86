// Command bench measures corso's Exchange backup against its targets in one
// run on this machine and prints the figures and ratios: throughput against
// raw kopia ingest of the same items, incremental cost after churn, worker
// memory as a mailbox grows, history size, re-fetching after a worker is
// killed, and scaling from one worker to four under Graph latency.
//
//	make build && go run ./bench [-items 3000]
package main

import (
	"flag"
	"fmt"
	"os"
	"time"
)

type config struct {
	users     int
	items     int
	latency   time.Duration
	scaleUser int
}

func main() {
	var c config
	flag.IntVar(&c.users, "users", 6, "mailboxes in the throughput tenant")
	flag.IntVar(&c.items, "items", 3000, "items per mailbox in the throughput tenant")
	flag.DurationVar(&c.latency, "latency", 100*time.Millisecond, "simulated Graph latency for the scaling run")
	flag.IntVar(&c.scaleUser, "scale-users", 16, "mailboxes in the scaling tenant")
	flag.Parse()
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
