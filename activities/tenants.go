package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"

	"github.com/corso-temporal/corso/workflows"
)

// Client is what the activities of every service ask of Microsoft 365:
// Microsoft Graph in production, the simulator in tests (through the same
// client).
type Client interface {
	ContainerSource
	ContainerTarget
	ContainerResourceSource
	DriveSource
	DriveTarget
}

// NewClient builds a client for one tenant and app.
type NewClient func(tenantID, clientID, clientSecret string) (Client, error)

// Tenants holds what the activities of every service share: the
// repositories, and one client per tenant and app, cached so tokens,
// connection pools and Graph budgets are shared by all of a worker's
// activities.
type Tenants struct {
	Repos     *Repositories
	NewClient NewClient
	// CheckpointItems is how many fetched items a collection backup may
	// lose to a crash; zero means defaultCheckpointItems.
	CheckpointItems int

	mu      sync.Mutex
	clients map[string]Client
}

// client returns the client of the request's tenant and app.
func (t *Tenants) client(ctx context.Context, g workflows.GraphRef) (Client, error) {
	if g.TenantID == "" {
		return nil, invalidInput("no tenant id: set AZURE_TENANT_ID")
	}
	var gc workflows.GraphCredentials
	if err := t.Repos.openCredentials(ctx, g.Credentials, "Graph credentials", &gc); err != nil {
		return nil, err
	}
	if gc.ClientID == "" || gc.ClientSecret == "" {
		return nil, invalidInput("no Graph app credentials: set AZURE_CLIENT_ID and AZURE_CLIENT_SECRET")
	}
	sum := sha256.Sum256([]byte(g.TenantID + "\x00" + gc.ClientID + "\x00" + gc.ClientSecret))
	key := hex.EncodeToString(sum[:])
	t.mu.Lock()
	defer t.mu.Unlock()
	if c, ok := t.clients[key]; ok {
		return c, nil
	}
	c, err := t.NewClient(g.TenantID, gc.ClientID, gc.ClientSecret)
	if err != nil {
		return nil, graphError(err)
	}
	if t.clients == nil {
		t.clients = map[string]Client{}
	}
	t.clients[key] = c
	return c, nil
}
