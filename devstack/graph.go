package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/corso-temporal/corso/graphsim"
)

// graphService serves a simulated Microsoft 365 tenant: the Graph API, the
// sign-in endpoint and the /_sim/ control API on one address. The tenant
// is generated from the seed, so a restart serves the same tenant as first
// generated; changes made through the API last until the stack stops.
type graphService struct {
	dir          string
	port         int
	seed         int64
	users        int
	itemsPerUser int
	// clean leaves out the special users and sites with persistent faults
	// (graphsim.TenantOptions.Clean); by default the tenant has them.
	clean bool

	sim    *graphsim.Server
	secret string
	http   httpServer
}

const graphClientID = "corso-dev"

func (g *graphService) url() string { return "http://" + hostPort(g.port) }

func (g *graphService) Name() string { return "graph simulator" }

func (g *graphService) Ports() []portClaim {
	return []portClaim{{Port: g.port, Flag: "--graph-port"}}
}

func (g *graphService) Summary() string {
	if g.clean {
		return fmt.Sprintf("graph %s (%d users, clean)", g.url(), g.users)
	}
	return fmt.Sprintf("graph %s (%d users + special users)", g.url(), g.users)
}

func (g *graphService) Env() []envVar {
	return []envVar{
		{"CORSO_GRAPH_ENDPOINT", g.url()},
		{"AZURE_TENANT_ID", g.sim.TenantID()},
		{"AZURE_CLIENT_ID", graphClientID},
		{"AZURE_CLIENT_SECRET", g.secret},
	}
}

func (g *graphService) Start(_ context.Context, died func(error)) error {
	secret, err := loadOrCreateSecret(filepath.Join(g.dir, "graph-client-secret"), randomToken(32))
	if err != nil {
		return err
	}
	g.secret = secret
	g.sim = graphsim.New(graphsim.Options{
		Tenant:       graphsim.TenantOptions{Seed: g.seed, Users: g.users, ItemsPerUser: g.itemsPerUser, Clean: g.clean},
		ClientID:     graphClientID,
		ClientSecret: secret,
		BaseURL:      g.url(),
	})
	return g.http.serve(g.port, g.sim.Handler(), died)
}

func (g *graphService) Stop(ctx context.Context) error {
	err := g.http.stop(ctx)
	if g.sim != nil {
		_ = g.sim.Close()
	}
	return err
}
