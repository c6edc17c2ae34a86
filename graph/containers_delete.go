package graph

import (
	"context"
	"errors"
	"fmt"

	abs "github.com/microsoft/kiota-abstractions-go"
)

// DeleteContainer deletes a mail folder, contact folder or calendar with
// everything in it: a restore drill's scratch copy. A container already
// gone is not an error.
func (c *Client) DeleteContainer(ctx context.Context, mailboxID string, cat Category, containerID string) error {
	op := fmt.Sprintf("delete %s container %s of %s", cat, containerID, mailboxID)
	return c.deleteOf(ctx, mailboxID, op, cat, containerID,
		map[Category]string{Email: "mailFolders", Contacts: "contactFolders", Events: "calendars"},
		map[Category]string{Email: "mail.folder.delete", Contacts: "contacts.folder.delete", Events: "calendar.delete"})
}

// deleteOf deletes users/{mailbox}/{segs[cat]}/{id}, counted as
// kinds[cat]; one already gone counts as deleted.
func (c *Client) deleteOf(ctx context.Context, mailboxID, op string, cat Category, id string, segs, kinds map[Category]string) error {
	seg := segs[cat]
	if seg == "" {
		return fmt.Errorf("%s: unknown category", op)
	}
	_, err := c.send(forMailbox(ctx, mailboxID, kinds[cat]), op, rawCall{method: abs.DELETE, url: c.v1("users", mailboxID, seg, id)})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
