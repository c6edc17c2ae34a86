package main

import (
	"context"
	"fmt"
	"io"

	"go.temporal.io/sdk/temporal"

	"github.com/corso-temporal/corso/codec"
	"github.com/corso-temporal/corso/temporalclient"
	"github.com/corso-temporal/corso/workflows"
)

type repoOutput struct {
	Operation string               `json:"operation"`
	Result    workflows.RepoResult `json:"result"`
	Workflow  submitted            `json:"workflow"`
	WebUI     string               `json:"webUI,omitempty"`
	Config    string               `json:"configFile"`
}

func runRepo(ctx context.Context, g *globals, op repoOp, s workflows.Storage, cf credentialFlags, out io.Writer) error {
	if err := s.Validate(); err != nil {
		return err
	}
	cfgPath, err := configPath(g.configFile)
	if err != nil {
		return err
	}
	creds, region, err := resolveCredentials(ctx, s, cf)
	if err != nil {
		return err
	}
	s.Region = region
	g.temporal = g.temporal.FromEnv()
	if g.temporal.CodecKey == "" {
		return codec.ErrNoKey
	}
	sealer, err := codec.NewSealer(g.temporal.CodecKey)
	if err != nil {
		return err
	}
	c, err := temporalclient.Dial(g.temporal)
	if err != nil {
		return err
	}
	defer c.Close()

	ss := &session{repo: workflows.RepoRef{Storage: s}, creds: creds, sealer: sealer}
	req := request{
		idPrefix: "corso-repo-" + string(op),
		attrs: []temporal.SearchAttributeUpdate{
			workflows.AttrOperation.ValueSet("repo " + string(op)),
			workflows.AttrRepository.ValueSet(s.String()),
		},
	}
	if op == opInit {
		req.workflow = workflows.RepoInitWorkflow
		req.input = ss.input(func(repo workflows.RepoRef, _ workflows.GraphRef) any { return workflows.RepoInitInput{Repo: repo} })
	} else {
		req.workflow = workflows.RepoConnectWorkflow
		req.input = ss.input(func(repo workflows.RepoRef, _ workflows.GraphRef) any { return workflows.RepoConnectInput{Repo: repo} })
	}
	var res workflows.RepoResult
	sub, err := execute(ctx, c, g, req, &res)
	if err != nil {
		return err
	}
	if err := writeConfig(cfgPath, configFromStorage(s, res.RepositoryID)); err != nil {
		return err
	}
	o := repoOutput{Operation: "repo " + string(op), Result: res, Workflow: sub, WebUI: webUILink(g, sub), Config: cfgPath}
	if g.json {
		return printJSON(out, o)
	}
	printRepo(out, op, o)
	return nil
}

func printRepo(out io.Writer, op repoOp, o repoOutput) {
	r := o.Result
	switch {
	case op == opInit && r.Created:
		fmt.Fprintf(out, "Initialized a repository at %s\n", r.Storage)
	case op == opInit:
		fmt.Fprintf(out, "A repository already exists at %s and the passphrase opens it; nothing changed\n", r.Storage)
	default:
		fmt.Fprintf(out, "Connected to the repository at %s\n", r.Storage)
	}
	fmt.Fprintf(out, "  repository id  %s\n", r.RepositoryID)
	fmt.Fprintf(out, "  format         %s, %s, %s (kopia format v%d)\n", r.Format.Encryption, r.Format.Hash, r.Format.Splitter, r.Format.Version)
	fmt.Fprintf(out, "  workflow       %s\n", o.Workflow.WorkflowID)
	if o.WebUI != "" {
		fmt.Fprintf(out, "  web ui         %s\n", o.WebUI)
	}
	fmt.Fprintf(out, "Saved the connection in %s (no passphrase or keys are stored)\n", o.Config)
}
