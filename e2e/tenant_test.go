package e2e

import (
	"github.com/corso-temporal/corso/graphsim"
	"github.com/corso-temporal/corso/localstack"
)

// simTenant is a simulated tenant served from the test process.
type simTenant = localstack.Tenant

// tenant is the simulator the shared workers talk to.
var tenant *simTenant

func startSimulator(opts graphsim.Options) (*simTenant, error) { return localstack.StartTenant(opts) }
