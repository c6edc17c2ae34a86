package localstack

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/corso-temporal/corso/graphsim"
)

// Tenant is a simulated Microsoft 365 tenant served on 127.0.0.1 from this
// process, so a test can mutate it, inject faults and read its ground
// truth directly.
type Tenant struct {
	*graphsim.Server
	Endpoint string

	srv      *http.Server
	clientID string
	secret   string
}

// StartTenant serves a simulated tenant on a free port.
func StartTenant(opts graphsim.Options) (*Tenant, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	endpoint := "http://" + l.Addr().String()
	opts.BaseURL = endpoint
	if opts.ClientID == "" {
		opts.ClientID, opts.ClientSecret = "local-app", "local-app-secret-5c1d"
	}
	sim := graphsim.New(opts)
	t := &Tenant{Server: sim, Endpoint: endpoint, clientID: opts.ClientID, secret: opts.ClientSecret,
		srv: &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}}
	go func() { _ = t.srv.Serve(l) }()
	return t, nil
}

// Close stops serving.
func (t *Tenant) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = t.srv.Shutdown(ctx)
	_ = t.Server.Close()
}

// WorkerEnv points a worker at this tenant.
func (t *Tenant) WorkerEnv() map[string]string {
	return map[string]string{"CORSO_GRAPH_ENDPOINT": t.Endpoint}
}

// CLIEnv is what an admin exports to back up this tenant.
func (t *Tenant) CLIEnv(passphrase string) map[string]string {
	return map[string]string{
		"CORSO_PASSPHRASE":    passphrase,
		"AZURE_TENANT_ID":     t.TenantID(),
		"AZURE_CLIENT_ID":     t.clientID,
		"AZURE_CLIENT_SECRET": t.secret,
	}
}

// Mailboxes lists the users that have a mailbox.
func (t *Tenant) Mailboxes() []string {
	var out []string
	for _, u := range t.Info().Users {
		if u.HasMailbox {
			out = append(out, u.UPN)
		}
	}
	return out
}
