package export

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"slices"
	"testing"
)

// TestListTableCSV: a list's CSV has its visible columns by display name
// (Title and its own, not SharePoint's other built-in ones), and a row
// per item with each value as text.
func TestListTableCSV(t *testing.T) {
	schema := `{"displayName":"Issues","columns":[
		{"name":"Title","displayName":"Title","text":{}},
		{"name":"Author","displayName":"Created By","readOnly":true,"personOrGroup":{}},
		{"name":"Secret","displayName":"Secret","hidden":true,"text":{}},
		{"name":"Owner","displayName":"Owner","personOrGroup":{}},
		{"name":"Related","displayName":"Related item","lookup":{"listId":"x"}},
		{"name":"Tags","displayName":"Tags","choice":{}},
		{"name":"Link","displayName":"Link","hyperlinkOrPicture":{}},
		{"name":"Cost","displayName":"Cost","currency":{}},
		{"name":"Done","displayName":"Done","boolean":{}}]}`
	tbl, err := NewListTable([]byte(schema))
	if err != nil {
		t.Fatal(err)
	}
	item := func(fields string) []byte {
		b, _ := json.Marshal(map[string]any{"item": map[string]json.RawMessage{"fields": json.RawMessage(fields)}, "versions": []any{}})
		return b
	}
	for _, f := range []string{
		`{"Title":"Printer, jammed","AuthorLookupId":"12","Secret":"x","OwnerLookupId":"7","RelatedLookupId":"3","Tags":["red","blue"],"Link":{"Description":"Wiki","Url":"https://w/x?a=1&b=2"},"Cost":12.5,"Done":true}`,
		`{"Title":"VPN \"down\""}`,
	} {
		if err := tbl.Add(item(f)); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := tbl.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	got, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse: %v", err)
	}
	want := [][]string{
		{"Title", "Owner", "Related item", "Tags", "Link", "Cost", "Done"},
		{"Printer, jammed", "7", "3", "red; blue", "https://w/x?a=1&b=2", "12.5", "true"},
		{`VPN "down"`, "", "", "", "", "", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d: %q", len(got), len(want), got)
	}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Fatalf("row %d is %q, want %q", i, got[i], want[i])
		}
	}
}
