package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/corso-temporal/corso/export"
	"github.com/corso-temporal/corso/m365"
	"github.com/corso-temporal/corso/repository"
)

// startTable begins the CSV of a collection whose category has a schema
// (a list): its columns come from the stored schema, its rows from the
// items the export writes. nil for other collections.
func (ex *exchangeExport) startTable(ctx context.Context, c repository.Collection) error {
	ex.table = nil
	if !m365.Category(c.Category).HasSchema() || c.SchemaID == "" {
		return nil
	}
	var schema json.RawMessage
	if err := ex.repo.ReadJSON(ctx, c.SchemaID, &schema); err != nil {
		return repositoryError(fmt.Errorf("read the schema of list %s: %w", strings.Join(c.Path, "/"), err))
	}
	t, err := export.NewListTable(schema)
	if err != nil {
		return invalidInput(fmt.Sprintf("list %s: %v", strings.Join(c.Path, "/"), err))
	}
	ex.table = t
	return nil
}

// finishTable writes the collection's CSV beside its items' folder, as
// <list>.csv, when the export wrote any of its items.
func (ex *exchangeExport) finishTable(c repository.Collection) error {
	t := ex.table
	ex.table = nil
	if t == nil || t.Rows() == 0 || len(c.Path) == 0 {
		return nil
	}
	dir := append([]string{c.Category}, c.Path[:len(c.Path)-1]...)
	w, err := ex.sink.Create(dir, export.ListCSVName(c.Path[len(c.Path)-1]))
	if err != nil {
		return invalidInput("write the export: " + err.Error())
	}
	if err := t.WriteCSV(w); err != nil {
		export.Abort(w)
		return invalidInput("write the export: " + err.Error())
	}
	if err := w.Close(); err != nil {
		return invalidInput("write the export: " + err.Error())
	}
	return nil
}
