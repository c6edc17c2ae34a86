package e2e

import (
	"testing"

	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/localstack"
)

// simTenant is a simulated tenant served from the test process.
type simTenant = localstack.Tenant

// tenant is the simulator the shared workers talk to.
var tenant *simTenant

func startSimulator(opts graphsim.Options) (*simTenant, error) { return localstack.StartTenant(opts) }

// ownTenant starts a simulated tenant for one test, closed when it ends.
func ownTenant(t *testing.T, opts graphsim.TenantOptions) *simTenant {
	t.Helper()
	sim, err := startSimulator(graphsim.Options{Tenant: opts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	return sim
}
