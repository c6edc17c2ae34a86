package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// A restore sends back the JSON a backup stored, minus what Exchange
// assigns itself. It is edited as raw JSON, never through a model, so every
// property survives as stored, including ones the SDK's models do not know.

// jsonField is one property of a JSON object, its value as stored.
type jsonField struct {
	key string
	val json.RawMessage
}

// jsonObject is a JSON object's properties in their order.
type jsonObject []jsonField

// parseObject reads a JSON object without interpreting its values.
func parseObject(b []byte) (jsonObject, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	var o jsonObject
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := t.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, err
		}
		o = append(o, jsonField{key, val})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	return o, nil
}

// get returns the value of key, nil when absent.
func (o jsonObject) get(key string) json.RawMessage {
	for _, f := range o {
		if f.key == key {
			return f.val
		}
	}
	return nil
}

// has reports whether key is present and not null.
func (o jsonObject) has(key string) bool {
	v := o.get(key)
	return v != nil && string(v) != "null"
}

// str returns the string value of key, "" when absent or not a string.
func (o jsonObject) str(key string) string {
	var s string
	_ = json.Unmarshal(o.get(key), &s)
	return s
}

// without returns the properties drop does not select.
func (o jsonObject) without(drop func(key string) bool) jsonObject {
	out := make(jsonObject, 0, len(o))
	for _, f := range o {
		if !drop(f.key) {
			out = append(out, f)
		}
	}
	return out
}

// only returns the properties named in keys, in o's order.
func (o jsonObject) only(keys ...string) jsonObject {
	return o.without(func(k string) bool {
		for _, want := range keys {
			if k == want {
				return false
			}
		}
		return true
	})
}

// with returns o with key set to val (replaced in place, or added last).
func (o jsonObject) with(key string, val json.RawMessage) jsonObject {
	out := make(jsonObject, 0, len(o)+1)
	done := false
	for _, f := range o {
		if f.key == key {
			f.val, done = val, true
		}
		out = append(out, f)
	}
	if !done {
		out = append(out, jsonField{key, val})
	}
	return out
}

func (o jsonObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.key)
		b.Write(k)
		b.WriteByte(':')
		b.Write(f.val)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// bytes is o encoded.
func (o jsonObject) bytes() []byte {
	b, _ := o.MarshalJSON()
	return b
}

// serverAssigned selects the properties a restore must not send: the given
// names and every annotation (@odata.etag, @odata.context,
// attachments@odata.context, ...).
func serverAssigned(names ...string) func(string) bool {
	set := make(map[string]bool, len(names))
	for _, n := range names {
		set[strings.ToLower(n)] = true
	}
	return func(k string) bool { return strings.Contains(k, "@") || set[strings.ToLower(k)] }
}

// objects reads a JSON array of objects; null or absent is empty.
func objects(raw json.RawMessage) ([]jsonObject, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, err
	}
	out := make([]jsonObject, 0, len(list))
	for i, x := range list {
		o, err := parseObject(x)
		if err != nil {
			return nil, fmt.Errorf("element %d: %w", i, err)
		}
		out = append(out, o)
	}
	return out, nil
}
