package main

import (
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"

	"github.com/corso-temporal/corso/activities"
	"github.com/corso-temporal/corso/codec"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

type deps struct {
	connections *repository.Connections
	sealer      *codec.Sealer
}

// register puts every corso workflow and activity on the worker, activities
// under the names the workflows schedule.
func register(r worker.Registry, d deps) {
	r.RegisterWorkflow(workflows.RepoInitWorkflow)
	r.RegisterWorkflow(workflows.RepoConnectWorkflow)

	repos := &activities.Repositories{Connections: d.connections, Sealer: d.sealer}
	r.RegisterActivityWithOptions(repos.InitRepository, activity.RegisterOptions{Name: workflows.ActivityInitRepository})
	r.RegisterActivityWithOptions(repos.ConnectRepository, activity.RegisterOptions{Name: workflows.ActivityConnectRepository})
}
