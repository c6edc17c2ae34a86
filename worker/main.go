// Command corso-worker runs corso's workflows and activities. Start as many
// as you like against one Temporal namespace; they share the work.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := newCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "corso-worker:", err)
		os.Exit(1)
	}
}
