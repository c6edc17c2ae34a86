package e2e

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/corso-temporal/corso/graphsim"
)

// simTenant is a simulated Microsoft 365 tenant served on 127.0.0.1.
type simTenant struct {
	*graphsim.Server
	endpoint string
	srv      *http.Server
	clientID string
	secret   string
}

// tenant is the simulator the shared workers talk to.
var tenant *simTenant

func startSimulator(opts graphsim.Options) (*simTenant, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	endpoint := "http://" + l.Addr().String()
	opts.BaseURL = endpoint
	if opts.ClientID == "" {
		opts.ClientID, opts.ClientSecret = "e2e-app", "e2e-app-secret-5c1d"
	}
	sim := graphsim.New(opts)
	st := &simTenant{Server: sim, endpoint: endpoint, srv: &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second},
		clientID: opts.ClientID, secret: opts.ClientSecret}
	go func() { _ = st.srv.Serve(l) }()
	return st, nil
}

func (s *simTenant) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
	_ = s.Server.Close()
}

// workerEnv points a worker at this tenant.
func (s *simTenant) workerEnv() map[string]string {
	return map[string]string{"CORSO_GRAPH_ENDPOINT": s.endpoint}
}

// cliEnv is what an admin exports to back up this tenant.
func (s *simTenant) cliEnv(passphrase string) map[string]string {
	return map[string]string{
		"CORSO_PASSPHRASE":    passphrase,
		"AZURE_TENANT_ID":     s.TenantID(),
		"AZURE_CLIENT_ID":     s.clientID,
		"AZURE_CLIENT_SECRET": s.secret,
	}
}
