// Command corso is the CLI: it validates input, submits workflows to
// Temporal, waits for them and prints the results. The work itself runs on
// corso-worker processes.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := newRootCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "corso:", oneLine(err))
		os.Exit(1)
	}
}
