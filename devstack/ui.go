package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uiserveroptions "github.com/temporalio/ui-server/v2/server/server_options"

	"github.com/corso-temporal/corso/codec"
)

// uiService is the Temporal Web UI for the embedded server. Payloads are
// encrypted, so the UI sends them from the browser to the codec server.
type uiService struct {
	port          int
	temporalPort  int
	namespace     string
	codecEndpoint string
	// tls, when set, is how the UI server reaches an mTLS frontend.
	tls *stackTLS

	srv  *uiserver.Server
	done chan struct{} // closed when Start of the UI server returns
	err  error
}

func (u *uiService) url() string { return "http://" + hostPort(u.port) }

func (u *uiService) Name() string { return "web ui" }

func (u *uiService) Ports() []portClaim { return []portClaim{{Port: u.port, Flag: "--ui-port"}} }

func (u *uiService) Summary() string { return "web ui " + u.url() }

func (u *uiService) Env() []envVar { return []envVar{{"CORSO_TEMPORAL_UI", u.url()}} }

func (u *uiService) Start(ctx context.Context, died func(error)) error {
	var tlsConf uiconfig.TLS
	if u.tls != nil {
		tlsConf = uiconfig.TLS{
			CaFile:                 u.tls.path(tlsCA),
			CertFile:               u.tls.path(tlsClientCert),
			KeyFile:                u.tls.path(tlsClientKey),
			EnableHostVerification: true,
		}
	}
	u.srv = uiserver.NewServer(uiserveroptions.WithConfigProvider(&uiconfig.Config{
		Host:                host,
		Port:                u.port,
		TemporalGRPCAddress: hostPort(u.temporalPort),
		TLS:                 tlsConf,
		EnableUI:            true,
		DefaultNamespace:    u.namespace,
		DisableNewsFetch:    true,
		HideLogs:            true,
		// Plain HTTP on loopback: a Secure cookie would never be sent back.
		CORS: uiconfig.CORS{CookieInsecure: true},
		Codec: uiconfig.Codec{
			Endpoint: u.codecEndpoint,
			// The codec server has no auth; sending the UI's token or cookies
			// would only leak them to it.
			PassAccessToken:    false,
			IncludeCredentials: false,
		},
	}))
	u.done = make(chan struct{})
	go func() {
		u.err = u.srv.Start() // returns nil once Stop closes it
		close(u.done)
		if u.err != nil {
			died(u.err)
		}
	}()
	return waitHTTP(ctx, u.url()+"/healthz", u.done, &u.err)
}

func (u *uiService) Stop(ctx context.Context) error {
	if u.srv == nil {
		return nil
	}
	u.srv.Stop()
	select {
	case <-u.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// codecService serves the remote codec protocol with the payload sub-key
// of the stack's key, on loopback and without authentication, for the Web
// UI and for `temporal` CLI commands (TEMPORAL_CODEC_ENDPOINT).
type codecService struct {
	dir         string
	port        int
	allowOrigin string

	key  string
	http httpServer
}

func (c *codecService) url() string { return "http://" + hostPort(c.port) }

func (c *codecService) Name() string { return "codec server" }

func (c *codecService) Ports() []portClaim {
	return []portClaim{{Port: c.port, Flag: "--codec-port"}}
}

func (c *codecService) Summary() string { return "" }

func (c *codecService) Env() []envVar {
	return []envVar{
		{"CORSO_CODEC_KEY", c.key},
		{"CORSO_CODEC_ENDPOINT", c.url()},
		{"TEMPORAL_CODEC_ENDPOINT", c.url()},
	}
}

func (c *codecService) Start(ctx context.Context, died func(error)) error {
	key, err := loadOrCreateSecret(filepath.Join(c.dir, "codec.key"), codec.GenerateKey)
	if err != nil {
		return err
	}
	// The stack keeps the shared key for the CLI and workers (env file);
	// its codec server gets only the payload sub-key, like a deployed one.
	pk, err := codec.DerivePayloadKey(key)
	if err != nil {
		return fmt.Errorf("codec key in %s: %w", filepath.Join(c.dir, "codec.key"), err)
	}
	h, err := codec.NewHTTPHandler(pk, codec.HTTPOptions{AllowOrigin: c.allowOrigin})
	if err != nil {
		return err
	}
	c.key = key
	return c.http.serve(c.port, h, died)
}

func (c *codecService) Stop(ctx context.Context) error { return c.http.stop(ctx) }

// waitHTTP polls url until it answers 200, the server goroutine ends (done
// closed, its error in *serveErr), or ctx ends.
func waitHTTP(ctx context.Context, url string, done <-chan struct{}, serveErr *error) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s: %s", url, resp.Status)
		}
		select {
		case <-done:
			if *serveErr != nil {
				return *serveErr
			}
			return errors.New("server stopped")
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
