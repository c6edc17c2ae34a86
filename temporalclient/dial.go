// Package temporalclient dials the Temporal frontend the same way for the
// CLI and the workers: same address defaults, same encrypting data
// converter. It must not grow workflow or activity logic.
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

// Config says where Temporal is and how to encrypt payloads.
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
}

// FromEnv fills unset fields from TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and
// CORSO_CODEC_KEY, then from the defaults.
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
	logger := c.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	cl, err := client.Dial(client.Options{
		HostPort:         c.Address,
		Namespace:        c.Namespace,
		DataConverter:    dc,
		FailureConverter: codec.NewFailureConverter(dc),
		Identity:         c.Identity,
		Logger:           sdklog.NewStructuredLogger(logger),
	})
	if err != nil {
		return nil, fmt.Errorf("cannot reach Temporal at %s (namespace %s): %w; start it (corso-dev up) or set --temporal-address / TEMPORAL_ADDRESS", c.Address, c.Namespace, err)
	}
	return cl, nil
}
