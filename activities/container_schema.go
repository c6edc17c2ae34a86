package activities

import (
	"context"
)

// schema stores the container's schema when its category has one (a
// list's columns, which a restore re-creates the list with) and returns
// the stored object's id; "" for other categories and for a container
// that disappeared during the backup. It is read at the end of every
// backup of the container, so a column added since the previous backup
// is stored even when no item changed; an unchanged schema is stored once
// (the repository deduplicates it).
func (c *collection) schema(ctx context.Context) (string, error) {
	cont := c.in.Plan.Container
	if !cont.Category.HasSchema() || c.gone {
		return "", nil
	}
	if err := c.acquire(ctx); err != nil {
		return "", err
	}
	raw, err := c.src.ListSchema(ctx, c.in.MailboxID, cont.ID)
	c.release()
	if err != nil {
		return "", graphError(err)
	}
	id, err := c.session.WriteJSON(ctx, "CONTAINER-SCHEMA", raw)
	if err != nil {
		return "", repositoryError(err)
	}
	return id.String(), nil
}
