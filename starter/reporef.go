package main

import (
	"context"

	"github.com/corso-temporal/corso/codec"
	"github.com/corso-temporal/corso/temporalclient"
	"github.com/corso-temporal/corso/workflows"
	"go.temporal.io/sdk/client"
)

// session is what a command that works on the connected repository needs:
// the repository (its credentials are sealed per request, see input), a
// Temporal client and the sealer.
type session struct {
	repo   workflows.RepoRef
	creds  workflows.RepoCredentials
	graph  *graphApp
	client client.Client
	sealer *codec.Sealer
}

// connectedSession reads the saved connection, resolves the passphrase and
// AWS credentials, and dials Temporal.
func connectedSession(ctx context.Context, g *globals, cf credentialFlags) (*session, error) {
	path, err := configPath(g.configFile)
	if err != nil {
		return nil, err
	}
	cfg, err := readConfig(path)
	if err != nil {
		return nil, err
	}
	s := cfg.storage()
	creds, region, err := resolveCredentials(ctx, s, cf)
	if err != nil {
		return nil, err
	}
	if s.Region == "" {
		s.Region = region
	}
	g.temporal = g.temporal.FromEnv()
	if g.temporal.CodecKey == "" {
		return nil, codec.ErrNoKey
	}
	sealer, err := codec.NewSealer(g.temporal.CodecKey)
	if err != nil {
		return nil, err
	}
	c, err := temporalclient.Dial(g.temporal)
	if err != nil {
		return nil, err
	}
	return &session{repo: workflows.RepoRef{Storage: s}, creds: creds, client: c, sealer: sealer}, nil
}
