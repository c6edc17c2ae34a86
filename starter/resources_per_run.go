package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/corso-temporal/corso/workflows"
)

// resourcesPerRun is the hidden --resources-per-run flag of `backup
// create`: how many resources one run of the request backs up before it
// continues as new, below the workflow's own bound. Tests and benchmarks
// take the continue-as-new path with it on a small tenant.
type resourcesPerRun int

func (r *resourcesPerRun) add(cmd *cobra.Command) {
	cmd.Flags().Var(r, "resources-per-run", fmt.Sprintf("resources one workflow run backs up before continuing as new (1 to %d)", workflows.ResourcesPerRun))
	_ = cmd.Flags().MarkHidden("resources-per-run")
}

// flags are the flag as the command line gives it, none when unset.
func (r resourcesPerRun) flags() []string {
	if r == 0 {
		return nil
	}
	return []string{"--resources-per-run", r.String()}
}

func (r resourcesPerRun) String() string { return strconv.Itoa(int(r)) }

func (r *resourcesPerRun) Type() string { return "int" }

func (r *resourcesPerRun) Set(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > workflows.ResourcesPerRun {
		return fmt.Errorf("want a number from 1 to %d", workflows.ResourcesPerRun)
	}
	*r = resourcesPerRun(n)
	return nil
}
