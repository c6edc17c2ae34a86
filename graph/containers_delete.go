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
	seg := map[Category]string{Email: "mailFolders", Contacts: "contactFolders", Events: "calendars"}[cat]
	if seg == "" {
		return fmt.Errorf("%s: unknown category", op)
	}
	kind := map[Category]string{Email: "mail.folder.delete", Contacts: "contacts.folder.delete", Events: "calendar.delete"}[cat]
	_, err := c.send(forMailbox(ctx, mailboxID, kind), op, rawCall{method: abs.DELETE, url: c.v1("users", mailboxID, seg, containerID)})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
