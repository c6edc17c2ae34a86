package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/corso-temporal/corso/codec"
)

// newCodecServerCommand serves the remote codec the Temporal Web UI calls
// to show encrypted payloads. Sealed credentials stay sealed.
func newCodecServerCommand() *cobra.Command {
	var listen, origin string
	cmd := &cobra.Command{
		Use:   "codec-server",
		Short: "Serve the payload codec for the Temporal Web UI (set the UI's codec endpoint to this address)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			key, err := codec.KeyFromEnv()
			if err != nil {
				return err
			}
			h, err := codec.NewHTTPHandler(key, origin)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			srv := &http.Server{Addr: listen, Handler: h, ReadHeaderTimeout: 10 * time.Second}
			go func() {
				<-ctx.Done()
				shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = srv.Shutdown(shutdown)
			}()
			fmt.Fprintf(cmd.OutOrStdout(), "codec server listening on %s for the Web UI at %s\n", listen, origin)
			if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8081", "address to listen on")
	cmd.Flags().StringVar(&origin, "allow-origin", "http://127.0.0.1:8080", "the Web UI's origin, allowed by CORS")
	return cmd
}
