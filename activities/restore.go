package activities

import (
	"context"
	"fmt"
	"strings"

	"github.com/corso-temporal/corso/backup"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/repository"
	"github.com/corso-temporal/corso/workflows"
)

// What the restores of every service share.

// maxCollectionErrors bounds the item errors one collection reports; the
// rest are only counted.
const maxCollectionErrors = 1000

// validDestination checks a restore's destination folder name.
func validDestination(d string) error {
	switch {
	case d == "":
		return invalidInput("no restore destination given")
	case d != workflows.InPlace && strings.TrimSpace(d) != d:
		return invalidInput(fmt.Sprintf("restore destination %q has leading or trailing spaces", d))
	}
	return nil
}

// readDetails reads a collection's details: its items as the backup saw
// them.
func readDetails(ctx context.Context, r *repository.Repository, id string) ([]backup.Entry, error) {
	var entries []backup.Entry
	if err := r.ReadJSON(ctx, id, &entries); err != nil {
		return nil, repositoryError(fmt.Errorf("read backup details: %w", err))
	}
	return entries, nil
}

// existingBefore reads the ids a plan recorded as present in a target
// before the restore; nil when the plan recorded none.
func existingBefore(ctx context.Context, r *repository.Repository, id string) (map[string]bool, error) {
	if id == "" {
		return nil, nil
	}
	var items []m365.ExistingItem
	if err := r.ReadJSON(ctx, id, &items); err != nil {
		return nil, repositoryError(fmt.Errorf("read the target's items before the restore: %w", err))
	}
	out := make(map[string]bool, len(items))
	for _, it := range items {
		out[it.ID] = true
	}
	return out, nil
}

// itemName is how an admin knows an item: a file's name, a message's or
// event's subject, a contact's name.
func itemName(e backup.Entry) string {
	switch {
	case e.Name != "":
		return e.Name
	case e.Subject != "":
		return e.Subject
	}
	return e.DisplayName
}
