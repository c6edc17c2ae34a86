package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/corso-temporal/corso/backup"
)

// itemSelection is a service's item selector flags.
type itemSelection interface {
	add(cmd *cobra.Command)
	selector() (backup.Selector, error)
}

// serviceCommand names and documents one service's command.
type serviceCommand struct {
	service          string
	use              string
	aliases          []string
	short, example   string
	checkBeforeStart func() error // flags beyond the selection, if any
}

// newServiceDetailsCommand is `backup details SERVICE`: a backup's items,
// selected by sel, or its problems.
func newServiceDetailsCommand(g *globals, sc serviceCommand, sel itemSelection) *cobra.Command {
	var (
		id       string
		problems problemFlags
		creds    credentialFlags
	)
	cmd := &cobra.Command{
		Use: sc.use, Aliases: sc.aliases, Short: sc.short, Example: sc.example,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if id == "" {
				return errors.New("--backup is required")
			}
			s, err := sel.selector()
			if err != nil {
				return err
			}
			return runBackupDetails(cmd.Context(), g, sc.service, id, s, problems, creds, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&id, "backup", "", "id of the backup (see `corso backup list "+sc.service+"`)")
	sel.add(cmd)
	problems.add(cmd)
	addPassphraseFlags(cmd, &creds)
	return cmd
}

// newServiceExportCommand is `export SERVICE DIR`: the items sel selects,
// written as files under DIR or into one zip.
func newServiceExportCommand(g *globals, sc serviceCommand, sel itemSelection, f *exportFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use: sc.use + " DIR", Aliases: sc.aliases, Short: sc.short, Example: sc.example,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.id == "" {
				return errors.New("--backup is required")
			}
			if sc.checkBeforeStart != nil {
				if err := sc.checkBeforeStart(); err != nil {
					return err
				}
			}
			s, err := sel.selector()
			if err != nil {
				return err
			}
			return runExport(cmd.Context(), g, sc.service, *f, s, args[0], cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&f.id, "backup", "", "id of the backup to export from (see `corso backup list "+sc.service+"`)")
	sel.add(cmd)
	cmd.Flags().BoolVar(&f.archive, "archive", false, "write one zip file, Corso_Export_<time>.zip, in DIR")
	addPassphraseFlags(cmd, &f.creds)
	return cmd
}
