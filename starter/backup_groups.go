package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/export"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/workflows"
)

// groupsSelection is what a Groups backup request backs up: teams' channel
// messages, each message with its replies, and the groups' conversations.
type groupsSelection struct {
	groups     []string
	categories []string
	failFast   bool
	perRun     resourcesPerRun
	inFlight   resourcesInFlight
}

func (f *groupsSelection) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringSliceVar(&f.groups, "group", nil, "groups to back up: ids, names or addresses, comma separated, or '*' for every team")
	fl.StringSliceVar(&f.categories, "data", nil, "data to back up: messages (channel messages with their replies), conversations (the group mailbox's posts), libraries (the group site's document libraries, in a SharePoint request of its own); default messages and conversations")
	fl.BoolVar(&f.failFast, "fail-fast", false, "stop at the first item that cannot be backed up")
	f.perRun.add(cmd)
	f.inFlight.add(cmd)
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
		if c == dataLibraries {
			continue
		}
		if _, err := m365.ParseServiceCategory(m365.Groups, c); err != nil {
			return fmt.Errorf("--data: %w", err)
		}
	}
	return nil
}

// selections are the requests `backup create` makes of the selection: the
// groups' channel messages and conversations, and, with --data libraries,
// their sites' libraries, which are SharePoint's (backed up, listed and
// restored as any site's).
func (f *groupsSelection) selections() []backupSelection {
	if !slices.Contains(f.categories, dataLibraries) {
		return []backupSelection{f}
	}
	var out []backupSelection
	if rest := slices.DeleteFunc(slices.Clone(f.categories), func(c string) bool { return c == dataLibraries }); len(rest) > 0 {
		groups := *f
		groups.categories = rest
		out = append(out, &groups)
	}
	return append(out, &driveSelection{svc: m365.SharePoint, groups: f.groups, failFast: f.failFast, perRun: f.perRun, inFlight: f.inFlight})
}

// schedulable refuses what a schedule, which starts one request, cannot
// carry: the libraries of --data libraries, which are a request of their
// own.
func (f *groupsSelection) schedulable() error {
	if slices.Contains(f.categories, dataLibraries) {
		return errors.New("--data libraries cannot be scheduled with the messages: schedule the group sites' libraries with `corso backup schedule create " + m365.SharePoint + " --group ...`")
	}
	return nil
}

func (f *groupsSelection) service() string { return m365.Groups }

func (f *groupsSelection) flags() []string {
	return selectionFlags("--group", f.groups, f.categories, f.failFast, f.perRun, f.inFlight)
}

func (f *groupsSelection) request(s *session, policy *backup.Retention) request {
	return request{
		idPrefix: "corso-backup-groups",
		workflow: workflows.ContainersBackupWorkflow,
		input: s.input(func(repo workflows.RepoRef, gr workflows.GraphRef) any {
			return workflows.ContainersBackupInput{
				Repo: repo, Graph: gr, Service: m365.Groups, Resources: f.groups, Categories: f.categories, FailFast: f.failFast, Retention: policy,
				ResourcesPerRun: int(f.perRun), ResourcesInFlight: int(f.inFlight),
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
		Short:   "Back up Microsoft 365 groups' teams (channel messages with their replies) and conversations",
		Example: `  corso backup create groups --group Marketing
  corso backup create teams --group '*'
  corso backup create groups --group Marketing --data messages,conversations,libraries`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBackupCreates(cmd.Context(), g, sel.selections(), wait, creds, cmd.OutOrStdout())
		},
	}
	sel.add(cmd)
	cmd.Flags().BoolVar(&wait, "wait", true, "wait for the backups to finish; --wait=false prints the workflow ids and returns")
	addPassphraseFlags(cmd, &creds)
	return cmd
}

// messageSelectorFlags select channel threads and conversation posts in
// details and export.
type messageSelectorFlags struct {
	messages              []string
	channels              []string
	conversations         []string
	sender, text          string
	createdAfter, created string
}

func (f *messageSelectorFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringSliceVar(&f.messages, "message", nil, "message ids (of a thread's first message, or of a post)")
	fl.StringSliceVar(&f.channels, "channel", nil, "channels, by name (selects no conversation posts)")
	fl.StringSliceVar(&f.conversations, "conversation", nil, "conversation posts whose topic contains this (selects no channel threads)")
	fl.StringVar(&f.sender, "message-sender", "", "threads whose first message's sender, and posts whose sender, contains this")
	fl.StringVar(&f.text, "message-text", "", "threads whose subject or first words, and posts whose topic, contain this")
	fl.StringVar(&f.createdAfter, "message-created-after", "", "threads started, and posts received, after this time (RFC 3339 or YYYY-MM-DD)")
	fl.StringVar(&f.created, "message-created-before", "", "threads started, and posts received, before this time")
}

func (f messageSelectorFlags) selector() (backup.Selector, error) {
	s := backup.Selector{Categories: []string{backup.ChannelMessagesCategory, backup.ConversationsCategory}, ItemIDs: f.messages,
		Channels: f.channels, Conversations: f.conversations, MessageSender: f.sender, MessageText: f.text}
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
	return newServiceDetailsCommand(g, serviceCommand{service: m365.Groups, use: m365.Groups, aliases: []string{"teams"},
		short:   "Show the channel threads and conversation posts of a groups backup, optionally selected",
		example: `  corso backup details groups --backup ID --channel General --message-sender Ann`,
	}, &messageSelectorFlags{})
}

func newExportGroupsCommand(g *globals) *cobra.Command {
	var f exportFlags
	cmd := newServiceExportCommand(g, serviceCommand{service: m365.Groups, use: m365.Groups, aliases: []string{"teams"},
		short: "Export channel threads of a groups backup as JSON or readable HTML, and conversation posts as .eml",
		example: `  corso export groups ./export --backup ID
  corso export groups ./export --backup ID --channel General --format html`,
		checkBeforeStart: func() error {
			if f.format != export.ThreadAsJSON && f.format != export.ThreadAsHTML {
				return fmt.Errorf("--format %q: want json or html", f.format)
			}
			return nil
		},
	}, &messageSelectorFlags{}, &f)
	cmd.Flags().StringVar(&f.format, "format", export.ThreadAsJSON, "channel threads as json (each message as Graph served it) or html (one readable page per thread); posts are always .eml")
	return cmd
}

// Conversation posts cannot be restored: Graph lets only a signed-in user
// reply to a group conversation or start one ("Application: Not
// supported", https://learn.microsoft.com/graph/api/conversationthread-reply,
// .../post-reply, .../group-post-conversations), and corso runs as an
// application.
const conversationsNotRestorable = "Graph lets only a signed-in user, not an application, post to a group conversation; " +
	"export them as .eml files with `corso export groups` instead"

// groupsRestoreInput checks what `restore groups` can do: channel threads
// restored as new ones, never over or beside the same thread in a channel.
func groupsRestoreInput(f restoreFlags, sel messageSelectorFlags) (workflows.ExchangeRestoreInput, error) {
	if len(sel.conversations) > 0 {
		return workflows.ExchangeRestoreInput{}, errors.New("--conversation: conversation posts cannot be restored: " + conversationsNotRestorable)
	}
	switch f.collisions {
	case workflows.CollisionReplace:
		return workflows.ExchangeRestoreInput{}, errors.New("--collisions replace: Graph lets no application delete a channel message, " +
			"so a thread cannot be replaced; use skip, or restore into a new channel (the default --destination)")
	case workflows.CollisionCopy:
		return workflows.ExchangeRestoreInput{}, errors.New("--collisions copy: Teams keeps one message per creation time in a channel, " +
			"so a thread cannot be restored twice into one channel; use skip, or restore into a new channel (the default --destination)")
	}
	// Teams channel names cannot hold a colon.
	in, err := f.common(time.Now(), "15-04-05")
	if err != nil {
		return in, err
	}
	if in.Selector, err = sel.selector(); err != nil {
		return in, err
	}
	in.Selector.Categories = []string{backup.ChannelMessagesCategory}
	in.Service = m365.Groups
	return in, nil
}

func newRestoreGroupsCommand(g *globals) *cobra.Command {
	var (
		f   restoreFlags
		sel messageSelectorFlags
	)
	cmd := &cobra.Command{
		Use:     m365.Groups,
		Aliases: []string{"teams"},
		Short:   "Restore the channel threads of a groups backup into new channels, or into the original ones",
		Long: "Restores each channel thread (its message, then its replies, with inline images) as its authors wrote it and when, " +
			"through Teams' message import: each target channel is in migration mode during the restore and completed after it.\n" +
			"Conversation posts are not restored: " + conversationsNotRestorable + ".",
		Example: `  corso restore groups --backup ID
  corso restore teams --backup ID --channel General --destination /`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in, err := groupsRestoreInput(f, sel)
			if err != nil {
				return err
			}
			notes := cmd.OutOrStdout()
			if g.json {
				notes = cmd.ErrOrStderr()
			}
			return runContainerRestore(cmd.Context(), g, in, f.creds, cmd.OutOrStdout(), func(ctx context.Context, s *session) error {
				return noteConversationsLeft(ctx, g, s, in.BackupID, notes)
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.id, "backup", "", "id of the backup to restore from (see `corso backup list groups`)")
	sel.add(cmd)
	fl.StringVar(&f.destination, "destination", "", "each channel is restored into a new channel named `<channel> <destination>` (default Corso_Restore_<time>); / restores into the original channels")
	fl.StringVar(&f.collisions, "collisions", workflows.CollisionSkip, "a thread already in the target channel is skipped (the only choice: Graph can neither delete a channel message nor hold two of the same time)")
	fl.StringVar(&f.toResource, "to-resource", "", "restore into this team instead of the backed-up one")
	fl.BoolVar(&f.failFast, "fail-fast", false, "stop at the first thread that cannot be restored")
	addPassphraseFlags(cmd, &f.creds)
	return cmd
}

// noteConversationsLeft says so when the backup holds conversation posts,
// which the restore left out.
func noteConversationsLeft(ctx context.Context, g *globals, s *session, backupID string, out io.Writer) error {
	var page workflows.BackupDetailsResult
	_, err := execute(ctx, s.client, g, request{
		idPrefix: "corso-backup-details",
		workflow: workflows.BackupDetailsWorkflow,
		input: s.input(func(repo workflows.RepoRef, _ workflows.GraphRef) any {
			return workflows.BackupDetailsInput{Repo: repo, Service: m365.Groups, BackupID: backupID,
				Selector: backup.Selector{Categories: []string{backup.ConversationsCategory}}, Limit: 1}
		}),
		attrs: repoAttrs("backup details", s.repo),
	}, &page)
	if err != nil {
		return err
	}
	if page.Total > 0 {
		fmt.Fprintf(out, "\n%d conversation posts of the backup were not restored: %s.\n", page.Total, conversationsNotRestorable)
	}
	return nil
}
