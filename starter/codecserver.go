package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/corso-temporal/corso/codec"
	"github.com/corso-temporal/corso/loopback"
)

// codecAuthTokenEnv carries the codec server's bearer token when no
// --auth-token-file is given.
const codecAuthTokenEnv = "CORSO_CODEC_AUTH_TOKEN"

// errCodecNoAuth is returned when the codec server would serve decrypted
// payloads to anyone who can reach it.
var errCodecNoAuth = errors.New("refusing to serve decoded payloads beyond loopback without authentication: " +
	"give the codec server a bearer token (--auth-token-file or " + codecAuthTokenEnv + "), listen on 127.0.0.1, " +
	"or pass --allow-unauthenticated if only an authenticating proxy can reach it")

// codecServerOptions are the codec server's flags.
type codecServerOptions struct {
	listen, origin, tokenFile string
	allowUnauthenticated      bool
}

// newCodecServerCommand serves the remote codec the Temporal Web UI calls
// to show encrypted payloads. It holds only the payload sub-key, so sealed
// credentials stay sealed.
func newCodecServerCommand() *cobra.Command {
	var o codecServerOptions
	cmd := &cobra.Command{
		Use:   "codec-server",
		Short: "Serve the payload codec for the Temporal Web UI (set the UI's codec endpoint to this address)",
		Long: "Serves Temporal's remote codec protocol with the payload sub-key from " + codec.PayloadKeyEnv + "\n" +
			"(print it with `corso codec-server payload-key`); it cannot open sealed credentials.\n" +
			"With a bearer token (--auth-token-file or " + codecAuthTokenEnv + ") every request must carry\n" +
			"`Authorization: Bearer TOKEN`; without one it listens on loopback only.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCodecServer(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:8081", "address to listen on; beyond loopback it needs a bearer token")
	f.StringVar(&o.origin, "allow-origin", "http://127.0.0.1:8080", "the Web UI's origin, the only one CORS allows")
	f.StringVar(&o.tokenFile, "auth-token-file", "", "file holding the bearer token every request must carry (env "+codecAuthTokenEnv+" holds the token itself)")
	f.BoolVar(&o.allowUnauthenticated, "allow-unauthenticated", false,
		"listen beyond loopback without a token: only where nothing but an authenticating proxy, or the host's own loopback port mapping, reaches it")
	cmd.AddCommand(newPayloadKeyCommand())
	return cmd
}

func runCodecServer(cmd *cobra.Command, o codecServerOptions) error {
	key, err := codec.PayloadKeyFromEnv()
	if err != nil {
		return err
	}
	if os.Getenv(codec.KeyEnv) != "" {
		fmt.Fprintf(cmd.ErrOrStderr(), "corso: warning: %s is set, but the codec server needs only %s; remove it from its environment\n",
			codec.KeyEnv, codec.PayloadKeyEnv)
	}
	token, err := codecAuthToken(o.tokenFile)
	if err != nil {
		return err
	}
	if err := checkCodecListen(o.listen, token != "", o.allowUnauthenticated); err != nil {
		return err
	}
	h, err := codec.NewHTTPHandler(key, codec.HTTPOptions{AllowOrigin: o.origin, AuthToken: token})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Addr: o.listen, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	auth := "no authentication"
	if token != "" {
		auth = "bearer token required"
	}
	fmt.Fprintf(cmd.OutOrStdout(), "codec server listening on %s for the Web UI at %s (%s)\n", o.listen, o.origin, auth)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// checkCodecListen refuses a listen address beyond loopback without a
// token, unless told that something in front authenticates.
func checkCodecListen(listen string, authenticated, allowUnauthenticated bool) error {
	local, err := loopback.Listen(listen)
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	if !local && !authenticated && !allowUnauthenticated {
		return fmt.Errorf("--listen %s: %w", listen, errCodecNoAuth)
	}
	return nil
}

// codecAuthToken reads the bearer token from file, else from the
// environment; empty means none.
func codecAuthToken(file string) (string, error) {
	if file == "" {
		return strings.TrimSpace(os.Getenv(codecAuthTokenEnv)), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("--auth-token-file: %w", err)
	}
	token := strings.TrimSpace(string(b))
	if token == "" {
		return "", fmt.Errorf("--auth-token-file %s is empty", file)
	}
	return token, nil
}

// newPayloadKeyCommand prints the payload sub-key for the codec server's
// environment, so it never needs the shared key.
func newPayloadKeyCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "payload-key",
		Short: "Print the payload sub-key derived from " + codec.KeyEnv + ", for the codec server's " + codec.PayloadKeyEnv,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			shared, err := codec.KeyFromEnv()
			if err != nil {
				return err
			}
			key, err := codec.DerivePayloadKey(shared)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), key.String())
			return nil
		},
	}
}
