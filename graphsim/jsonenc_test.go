package graphsim

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestAppendJSONMatchesEncodingJSONWithoutHTMLEscaping(t *testing.T) {
	values := []any{
		"plain", "quote\" back\\slash", "ctl\x00\x01\x1f\t\n\r\b\f", "<html>&amp;</html>", "émoji 📁 日本",
		"bad\xffutf8", "line\u2028sep\u2029", "",
		map[string]any{"b": 1, "a": []any{true, nil, "x"}, "c": map[string]any{"z": int64(5)}},
		[]string{"a", "b\"c"}, uint32(7), 3.25, []int{1, 2},
	}
	for _, v := range values {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		got, err := appendJSON(nil, v)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(bytes.TrimRight(want.Bytes(), "\n")) {
			t.Errorf("%#v: got %s want %s", v, got, want.Bytes())
		}
	}
}
