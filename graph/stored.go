package graph

import (
	"bytes"
	"encoding/json"
)

// storedReader is an item as a backup stores it, which also tells what
// the backup's details record of it (an m365.MetaReader).
type storedReader struct {
	*bytes.Reader
	meta ItemMeta
}

func newStoredReader(b []byte, meta ItemMeta) *storedReader {
	return &storedReader{Reader: bytes.NewReader(b), meta: meta}
}

func (s *storedReader) Close() error       { return nil }
func (s *storedReader) ItemMeta() ItemMeta { return s.meta }

// storedDocument encodes a document of what Graph served (a thread, a
// list item with its versions) as a backup stores it, with its details.
func storedDocument(doc any, meta ItemMeta) (*storedReader, error) {
	b, err := encodeVerbatim(doc)
	if err != nil {
		return nil, err
	}
	meta.Size = int64(len(b))
	return newStoredReader(b, meta), nil
}

// encodeVerbatim encodes v as JSON without escaping '<', '>' and '&',
// which json.Marshal would do inside raw messages too, changing the bytes
// Graph served.
func encodeVerbatim(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
