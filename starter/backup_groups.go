package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/export"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/workflows"
)

// groupsSelection is what a Groups backup request backs up: teams' channel
// messages, each message with its replies.
type groupsSelection struct {
	groups     []string
	categories []string
	failFast   bool
	perRun     resourcesPerRun
}

func (f *groupsSelection) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringSliceVar(&f.groups, "group", nil, "groups to back up: ids, names or addresses, comma separated, or '*' for every team")
	fl.StringSliceVar(&f.categories, "data", nil, "data to back up: messages (channel messages with their replies; the default)")
	fl.BoolVar(&f.failFast, "fail-fast", false, "stop at the first item that cannot be backed up")
	f.perRun.add(cmd)
}

func (f *groupsSelection) validate() error {
	if len(f.groups) == 0 {
		return errors.New("--group is required (ids, names or addresses, or '*' for every team)")
	}
	for _, g := range f.groups {
		if strings.TrimSpace(g) == "" {
			return errors.New("--group has an empty entry")
		}
		if g == "*" && len(f.groups) > 1 {
			return errors.New("--group '*' already selects every team; give it alone")
		}
	}
	for _, c := range f.categories {
		if _, err := m365.ParseServiceCategory(m365.Groups, c); err != nil {
			return fmt.Errorf("--data: %w", err)
		}
	}
	return nil
}

func (f *groupsSelection) service() string { return m365.Groups }

func (f *groupsSelection) flags() []string {
	out := []string{"--group", strings.Join(f.groups, ",")}
	if len(f.categories) > 0 {
		out = append(out, "--data", strings.Join(f.categories, ","))
	}
	if f.failFast {
		out = append(out, "--fail-fast")
	}
	return append(out, f.perRun.flags()...)
}

func (f *groupsSelection) request(s *session, policy *backup.Retention) request {
	return request{
		idPrefix: "corso-backup-groups",
		workflow: workflows.GroupsBackupWorkflow,
		input: s.input(func(repo workflows.RepoRef, gr workflows.GraphRef) any {
			return workflows.GroupsBackupInput{
				Repo: repo, Graph: gr, Groups: f.groups, Categories: f.categories, FailFast: f.failFast, Retention: policy,
				ResourcesPerRun: int(f.perRun),
			}
		}),
		attrs: backupAttrs(s, f.service()),
	}
}

func newBackupCreateGroupsCommand(g *globals) *cobra.Command {
	var (
		sel   groupsSelection
		wait  bool
		creds credentialFlags
	)
	cmd := &cobra.Command{
		Use:     m365.Groups,
		Aliases: []string{"teams"},
		Short:   "Back up Microsoft 365 groups' teams (channel messages with their replies)",
		Example: `  corso backup create groups --group Marketing
  corso backup create teams --group '*'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBackupCreate(cmd.Context(), g, &sel, wait, creds, cmd.OutOrStdout())
		},
	}
	sel.add(cmd)
	cmd.Flags().BoolVar(&wait, "wait", true, "wait for the backups to finish; --wait=false prints the workflow ids and returns")
	addPassphraseFlags(cmd, &creds)
	return cmd
}

// messageSelectorFlags select channel threads in details and export.
type messageSelectorFlags struct {
	messages              []string
	channels              []string
	sender, text          string
	createdAfter, created string
}

func (f *messageSelectorFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringSliceVar(&f.messages, "message", nil, "message ids (of a thread's first message)")
	fl.StringSliceVar(&f.channels, "channel", nil, "channels, by name")
	fl.StringVar(&f.sender, "message-sender", "", "threads whose first message's sender contains this")
	fl.StringVar(&f.text, "message-text", "", "threads whose subject or first words contain this")
	fl.StringVar(&f.createdAfter, "message-created-after", "", "threads started after this time (RFC 3339 or YYYY-MM-DD)")
	fl.StringVar(&f.created, "message-created-before", "", "threads started before this time")
}

func (f messageSelectorFlags) selector() (backup.Selector, error) {
	s := backup.Selector{Categories: []string{backup.ChannelMessagesCategory}, ItemIDs: f.messages,
		Channels: f.channels, MessageSender: f.sender, MessageText: f.text}
	var err error
	if s.PostedAfter, err = parseWhen("message-created-after", f.createdAfter); err != nil {
		return s, err
	}
	if s.PostedBefore, err = parseWhen("message-created-before", f.created); err != nil {
		return s, err
	}
	return s, s.Validate()
}

func newBackupDetailsGroupsCommand(g *globals) *cobra.Command {
	var (
		id       string
		sel      messageSelectorFlags
		problems problemFlags
		creds    credentialFlags
	)
	cmd := &cobra.Command{
		Use:     m365.Groups,
		Aliases: []string{"teams"},
		Short:   "Show the channel threads of a groups backup, optionally selected",
		Example: `  corso backup details groups --backup ID --channel General --message-sender Ann`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if id == "" {
				return errors.New("--backup is required")
			}
			s, err := sel.selector()
			if err != nil {
				return err
			}
			return runBackupDetails(cmd.Context(), g, m365.Groups, id, s, problems, creds, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&id, "backup", "", "id of the backup (see `corso backup list groups`)")
	sel.add(cmd)
	problems.add(cmd)
	addPassphraseFlags(cmd, &creds)
	return cmd
}

func newExportGroupsCommand(g *globals) *cobra.Command {
	var (
		f   exportFlags
		sel messageSelectorFlags
	)
	cmd := &cobra.Command{
		Use:     m365.Groups + " DIR",
		Aliases: []string{"teams"},
		Short:   "Export channel threads of a groups backup as JSON or readable HTML",
		Example: `  corso export groups ./export --backup ID
  corso export groups ./export --backup ID --channel General --format html`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.id == "" {
				return errors.New("--backup is required")
			}
			if f.format != export.ThreadAsJSON && f.format != export.ThreadAsHTML {
				return fmt.Errorf("--format %q: want json or html", f.format)
			}
			s, err := sel.selector()
			if err != nil {
				return err
			}
			return runExport(cmd.Context(), g, m365.Groups, f, s, args[0], cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&f.id, "backup", "", "id of the backup to export from (see `corso backup list groups`)")
	sel.add(cmd)
	cmd.Flags().StringVar(&f.format, "format", export.ThreadAsJSON, "json (each message as Graph served it) or html (one readable page per thread)")
	cmd.Flags().BoolVar(&f.archive, "archive", false, "write one zip file, Corso_Export_<time>.zip, in DIR")
	addPassphraseFlags(cmd, &f.creds)
	return cmd
}
