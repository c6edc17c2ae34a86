// Package temporalclient dials the Temporal frontend the same way for the
// CLI and the workers: same address defaults, same TLS and API key
// settings, same encrypting data converter. It must not grow workflow or
// activity logic.
package temporalclient

import (
	"fmt"
	"log/slog"
	"os"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/corso-temporal/corso/codec"
)

// Defaults match a local `corso-dev up`.
const (
	DefaultAddress   = "127.0.0.1:7233"
	DefaultNamespace = "default"
)

// Config says where Temporal is, how to reach it safely and how to
// encrypt payloads.
type Config struct {
	Address   string
	Namespace string
	CodecKey  string
	Identity  string
	Logger    *slog.Logger
	// AcceptUnencrypted lets payloads that were not encrypted with the
	// codec key be decoded (data written before encryption); off, they are
	// refused.
	AcceptUnencrypted bool
	// MetricsHandler receives the SDK's metrics; nil drops them.
	MetricsHandler client.MetricsHandler

	TLS    TLSOptions
	APIKey APIKeyOptions
}

// FromEnv fills unset fields from TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
// the temporal CLI's TLS and API key variables (TEMPORAL_TLS,
// TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY, TEMPORAL_TLS_CA, ...,
// TEMPORAL_API_KEY) and CORSO_CODEC_KEY, then from the defaults.
func (c Config) FromEnv() Config {
	if c.Address == "" {
		c.Address = os.Getenv("TEMPORAL_ADDRESS")
	}
	if c.Address == "" {
		c.Address = DefaultAddress
	}
	if c.Namespace == "" {
		c.Namespace = os.Getenv("TEMPORAL_NAMESPACE")
	}
	if c.Namespace == "" {
		c.Namespace = DefaultNamespace
	}
	if c.CodecKey == "" {
		c.CodecKey, _ = codec.KeyFromEnv()
	}
	c.TLS = c.TLS.fromEnv()
	c.APIKey = c.APIKey.fromEnv()
	return c
}

// Dial connects to Temporal with the encrypting data converter, and a
// failure converter that stores failure messages and stack traces
// encrypted too.
func Dial(c Config) (client.Client, error) {
	if c.CodecKey == "" {
		return nil, codec.ErrNoKey
	}
	dc, err := codec.NewDataConverter(c.CodecKey, codec.AcceptUnencrypted(c.AcceptUnencrypted))
	if err != nil {
		return nil, err
	}
	conn, creds, err := c.connection()
	if err != nil {
		return nil, err
	}
	logger := c.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	cl, err := client.Dial(client.Options{
		HostPort:          c.Address,
		Namespace:         c.Namespace,
		DataConverter:     dc,
		FailureConverter:  codec.NewFailureConverter(dc),
		Identity:          c.Identity,
		Logger:            sdklog.NewStructuredLogger(logger),
		ConnectionOptions: conn,
		Credentials:       creds,
		MetricsHandler:    c.MetricsHandler,
	})
	if err != nil {
		hint := "start it (corso-dev up) or set --temporal-address / TEMPORAL_ADDRESS"
		if conn.TLS != nil {
			hint += ", and check the TLS settings (TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY, TEMPORAL_TLS_CA, TEMPORAL_TLS_SERVER_NAME)"
		}
		return nil, fmt.Errorf("cannot reach Temporal at %s (namespace %s): %w; %s", c.Address, c.Namespace, err, hint)
	}
	return cl, nil
}
