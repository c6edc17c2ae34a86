package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/corso-temporal/corso/codec"
	"github.com/corso-temporal/corso/workflows"
)

func newRepoPassphraseCommand(g *globals) *cobra.Command {
	var (
		next  string
		creds credentialFlags
	)
	cmd := &cobra.Command{
		Use:   "update-passphrase",
		Short: "Change the repository's passphrase",
		Long: "Re-encrypts the repository's format blob under a new passphrase: the old one stops working on every\n" +
			"worker, and every backup stays as it is. Requests running with the old passphrase fail; start them\n" +
			"again with the new one.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRepoPassphrase(cmd.Context(), g, next, creds, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&next, "new-passphrase", "", "the new passphrase (default env CORSO_NEW_PASSPHRASE, else asked on the terminal)")
	addPassphraseFlags(cmd, &creds)
	return cmd
}

var errNoNewPassphrase = errors.New("no new passphrase: pass --new-passphrase or set CORSO_NEW_PASSPHRASE")

// newPassphrase takes the new passphrase from the flag, the environment,
// or the terminal (typed twice, not shown).
func newPassphrase(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if p := os.Getenv("CORSO_NEW_PASSPHRASE"); p != "" {
		return p, nil
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return "", errNoNewPassphrase
	}
	var typed [2]string
	for i, prompt := range []string{"New passphrase: ", "Again: "} {
		fmt.Fprint(os.Stderr, prompt)
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return "", fmt.Errorf("read the new passphrase: %w", err)
		}
		typed[i] = string(b)
	}
	switch {
	case typed[0] == "":
		return "", errNoNewPassphrase
	case typed[0] != typed[1]:
		return "", errors.New("the two new passphrases differ; nothing changed")
	}
	return typed[0], nil
}

func runRepoPassphrase(ctx context.Context, g *globals, flag string, cf credentialFlags, out io.Writer) error {
	next, err := newPassphrase(flag)
	if err != nil {
		return err
	}
	s, err := connectedSession(ctx, g, cf)
	if err != nil {
		return err
	}
	defer s.client.Close()
	if next == s.creds.Passphrase {
		return errors.New("the new passphrase is the current one; nothing changed")
	}
	repoInput := s.input(func(repo workflows.RepoRef, _ workflows.GraphRef) any { return repo })
	var res workflows.RepoPassphraseResult
	sub, err := execute(ctx, s.client, g, request{
		idPrefix: "corso-repo-update-passphrase",
		workflow: workflows.RepoPassphraseWorkflow,
		// The new passphrase is sealed for this request, like the rest.
		input: sealedInput(func(b codec.Binding) (any, error) {
			repo, err := repoInput(b)
			if err != nil {
				return nil, err
			}
			sealed, err := s.sealer.Seal(workflows.NewPassphrase{NewPassphrase: next}, b)
			if err != nil {
				return nil, err
			}
			return workflows.RepoPassphraseInput{Repo: repo.(workflows.RepoRef), NewPassphrase: sealed}, nil
		}),
		attrs: repoAttrs("repo update-passphrase", s.repo),
	}, &res)
	if err != nil {
		return err
	}
	if g.json {
		return printJSON(out, struct {
			workflows.RepoPassphraseResult
			Workflow submitted `json:"workflow"`
		}{res, sub})
	}
	fmt.Fprintf(out, "Changed the passphrase of the repository at %s (id %s)\n", res.Storage, res.RepositoryID)
	fmt.Fprintf(out, "  the old passphrase no longer opens it: use the new one from now on (CORSO_PASSPHRASE or --passphrase)\n")
	fmt.Fprintf(out, "  workflow       %s\n", sub.WorkflowID)
	return nil
}
