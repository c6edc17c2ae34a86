package repository

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/kopia/kopia/repo/object"
)

// streamSplitter cuts streamed records into small pieces, so that a
// reader holds one piece of each record it reads at a time, however many
// it reads side by side.
const streamSplitter = "DYNAMIC-128K-BUZHASH"

// JSONArrayWriter writes a JSON array to one object element by element,
// never holding the whole array: a record of millions of entries costs a
// writer what one piece costs. What it writes reads back with ReadJSON
// like any array, or element by element with a JSONArrayReader.
type JSONArrayWriter struct {
	description string
	ow          object.Writer
	n           int
	err         error
}

// NewJSONArray starts an array object. Close it when done.
func (s *Session) NewJSONArray(ctx context.Context, description string) *JSONArrayWriter {
	ow := s.w.NewObjectWriter(ctx, object.WriterOptions{Description: description, Prefix: metadataPrefix,
		Compressor: Compressor, MetadataCompressor: Compressor, Splitter: streamSplitter})
	return &JSONArrayWriter{description: description, ow: ow}
}

// Add appends v to the array.
func (w *JSONArrayWriter) Add(v any) error {
	if w.err != nil {
		return w.err
	}
	b, err := json.Marshal(v)
	if err != nil {
		w.err = fmt.Errorf("write %s: %w", w.description, err)
		return w.err
	}
	sep := ",\n"
	if w.n == 0 {
		sep = "[\n"
	}
	if _, err := io.WriteString(w.ow, sep); err != nil {
		w.err = fmt.Errorf("write %s: %w", w.description, err)
		return w.err
	}
	if _, err := w.ow.Write(b); err != nil {
		w.err = fmt.Errorf("write %s: %w", w.description, err)
		return w.err
	}
	w.n++
	return nil
}

// Len is the number of elements added.
func (w *JSONArrayWriter) Len() int { return w.n }

// Result ends the array and returns its object's id.
func (w *JSONArrayWriter) Result() (object.ID, error) {
	if w.err != nil {
		return object.EmptyID, w.err
	}
	end := "\n]\n"
	if w.n == 0 {
		end = "[]\n"
	}
	if _, err := w.ow.Write([]byte(end)); err != nil {
		return object.EmptyID, fmt.Errorf("write %s: %w", w.description, err)
	}
	oid, err := w.ow.Result()
	if err != nil {
		return object.EmptyID, fmt.Errorf("write %s: %w", w.description, err)
	}
	return oid, nil
}

// Close releases the writer; after Result it does nothing more.
func (w *JSONArrayWriter) Close() { _ = w.ow.Close() }

// JSONArrayReader reads a JSON array object, whoever wrote it (WriteJSON
// or a JSONArrayWriter), one element at a time.
type JSONArrayReader struct {
	id   string
	rd   object.Reader
	dec  *json.Decoder
	open bool
	done bool
}

// OpenJSONArray opens an array object for reading. Close it when done.
func (r *Repository) OpenJSONArray(ctx context.Context, id string) (*JSONArrayReader, error) {
	rd, err := r.openObject(ctx, id)
	if err != nil {
		return nil, err
	}
	return &JSONArrayReader{id: id, rd: rd, dec: json.NewDecoder(checkedReader{rd})}, nil
}

// Next decodes the next element into v; false once the array ended. Data
// missing or damaged is ErrUnreadable.
func (a *JSONArrayReader) Next(v any) (bool, error) {
	if a.done {
		return false, nil
	}
	if !a.open {
		tok, err := a.dec.Token()
		if err != nil {
			return false, a.bad(err)
		}
		if tok == nil { // null: WriteJSON of a nil slice
			a.done = true
			return false, nil
		}
		if d, ok := tok.(json.Delim); !ok || d != '[' {
			return false, a.bad(fmt.Errorf("not an array"))
		}
		a.open = true
	}
	if !a.dec.More() {
		if _, err := a.dec.Token(); err != nil {
			return false, a.bad(err)
		}
		a.done = true
		return false, nil
	}
	if err := a.dec.Decode(v); err != nil {
		return false, a.bad(err)
	}
	return true, nil
}

func (a *JSONArrayReader) bad(err error) error {
	return unreadable(fmt.Errorf("read object %s: %w", a.id, err))
}

// Close releases the reader.
func (a *JSONArrayReader) Close() { _ = a.rd.Close() }

// OpenJSONArray opens for reading an array object this session wrote,
// flushed or not. Close it when done.
func (s *Session) OpenJSONArray(ctx context.Context, id string) (*JSONArrayReader, error) {
	oid, err := object.ParseID(id)
	if err != nil {
		return nil, fmt.Errorf("invalid object id %q: %w", id, err)
	}
	rd, err := s.w.OpenObject(ctx, oid)
	if err != nil {
		return nil, unreadable(fmt.Errorf("open object %s: %w", id, err))
	}
	return &JSONArrayReader{id: id, rd: rd, dec: json.NewDecoder(checkedReader{rd})}, nil
}

// EachJSON calls fn with every element of an array object, whoever wrote
// it, decoded one at a time, in order: a reader holds one element, not the
// array.
func EachJSON[T any](ctx context.Context, r *Repository, id string, fn func(T) error) error {
	rd, err := r.OpenJSONArray(ctx, id)
	if err != nil {
		return err
	}
	defer rd.Close()
	for {
		var v T
		ok, err := rd.Next(&v)
		if err != nil || !ok {
			return err
		}
		if err := fn(v); err != nil {
			return err
		}
	}
}
