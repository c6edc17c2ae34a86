package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/corso-temporal/corso/workflows"
)

// resourcesInFlight is the --resources-in-flight flag of `backup create`
// and `backup schedule create`: how many resources (mailboxes, users'
// OneDrives, sites, teams) the request backs up at once. Each resource's
// backup keeps within the resource's own Graph limits, so a request uses
// at most this many resources' worth of the tenant's budget; a fleet of
// workers that can do more raises it.
type resourcesInFlight int

func (r *resourcesInFlight) add(cmd *cobra.Command) {
	cmd.Flags().Var(r, "resources-in-flight", fmt.Sprintf("resources the request backs up at once, 1 to %d (default %d); raise it when the workers can keep more busy",
		workflows.MaxResourcesInFlight, workflows.DefaultResourcesInFlight))
}

// flags are the flag as the command line gives it, none when unset.
func (r resourcesInFlight) flags() []string {
	if r == 0 {
		return nil
	}
	return []string{"--resources-in-flight", r.String()}
}

func (r resourcesInFlight) String() string { return strconv.Itoa(int(r)) }

func (r *resourcesInFlight) Type() string { return "int" }

func (r *resourcesInFlight) Set(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > workflows.MaxResourcesInFlight {
		return fmt.Errorf("want a number from 1 to %d", workflows.MaxResourcesInFlight)
	}
	*r = resourcesInFlight(n)
	return nil
}
