package export

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/corso-temporal/corso/m365"
)

// ListItemFileName names a list item's JSON file by its id, which is
// unique in its list (titles need not be).
func ListItemFileName(itemID string) string { return "item-" + SafeName(itemID) + ".json" }

// ListCSVName names the CSV file of a list.
func ListCSVName(list string) string {
	stem := SafeName(oneLine(list))
	if stem == "" {
		stem = "(unnamed list)"
	}
	if len(stem)+len(".csv") > MaxNameBytes {
		stem = tidy(truncateUTF8(stem, MaxNameBytes-len(".csv")))
	}
	return stem + ".csv"
}

// ListItemJSON writes a stored list item (m365.ListItemDocument) as
// indented JSON: the item and its versions as Graph served them.
func ListItemJSON(w io.Writer, stored []byte) error {
	var doc m365.ListItemDocument
	if err := json.Unmarshal(stored, &doc); err != nil || len(doc.Item) == 0 {
		return fmt.Errorf("not a stored list item")
	}
	return writeIndented(w, stored)
}

// ListTable is a list as one CSV: a header of its columns by display
// name, then a row per item with each field's value as text.
type ListTable struct {
	columns []listColumn
	rows    [][]string
}

type listColumn struct {
	key, title string
}

// NewListTable reads a stored list schema (GET .../lists/{id}?$expand=
// columns): the table's columns are Title and the list's own columns that
// are not hidden, in the schema's order; SharePoint's other built-in
// columns are left out.
func NewListTable(schema []byte) (*ListTable, error) {
	var s struct {
		Columns []map[string]json.RawMessage `json:"columns"`
	}
	if err := json.Unmarshal(schema, &s); err != nil {
		return nil, fmt.Errorf("the stored list schema is unreadable: %w", err)
	}
	t := &ListTable{}
	for _, c := range s.Columns {
		var name, title string
		var hidden bool
		_ = json.Unmarshal(c["name"], &name)
		_ = json.Unmarshal(c["displayName"], &title)
		_ = json.Unmarshal(c["hidden"], &hidden)
		if name == "" || hidden || (m365.BuiltInListColumn(name) && !strings.EqualFold(name, "Title")) {
			continue
		}
		_, person := c["personOrGroup"]
		_, lookup := c["lookup"]
		if title == "" {
			title = name
		}
		t.columns = append(t.columns, listColumn{key: m365.ListFieldKey(name, person || lookup), title: title})
	}
	return t, nil
}

// Add adds a stored list item's row.
func (t *ListTable) Add(stored []byte) error {
	var doc struct {
		Item struct {
			Fields map[string]json.RawMessage `json:"fields"`
		} `json:"item"`
	}
	if err := json.Unmarshal(stored, &doc); err != nil {
		return fmt.Errorf("not a stored list item")
	}
	row := make([]string, len(t.columns))
	for i, c := range t.columns {
		row[i] = FieldText(doc.Item.Fields[c.key])
	}
	t.rows = append(t.rows, row)
	return nil
}

// Rows is how many items the table holds.
func (t *ListTable) Rows() int { return len(t.rows) }

// WriteCSV writes the header and the rows.
func (t *ListTable) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	header := make([]string, len(t.columns))
	for i, c := range t.columns {
		header[i] = c.title
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	if err := cw.WriteAll(t.rows); err != nil {
		return err
	}
	return cw.Error()
}

// FieldText renders a field's value as text: strings as they are
// (person and lookup columns by their lookup value), numbers and booleans
// as JSON writes them, a hyperlink or picture by its URL, several values
// (multiple choices or lookups) joined by "; ", nothing for no value.
func FieldText(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || string(v) == "null" {
		return ""
	}
	switch v[0] {
	case '"':
		var s string
		_ = json.Unmarshal(v, &s)
		return s
	case '[':
		var vs []json.RawMessage
		if json.Unmarshal(v, &vs) != nil {
			return string(v)
		}
		parts := make([]string, len(vs))
		for i, x := range vs {
			parts[i] = FieldText(x)
		}
		return strings.Join(parts, "; ")
	case '{':
		var link struct {
			URL string `json:"Url"`
		}
		if json.Unmarshal(v, &link) == nil && link.URL != "" {
			return link.URL
		}
		var b bytes.Buffer
		if json.Compact(&b, v) == nil {
			return b.String()
		}
	}
	return string(v)
}
