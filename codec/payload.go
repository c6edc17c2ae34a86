package codec

import (
	"crypto/cipher"
	"fmt"
	"net/http"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

const (
	metadataEncoding = "encoding"
	encodingName     = "binary/corso-aes256gcm"
	metadataKeyID    = "corso-key-id"
)

// PayloadCodec encrypts whole payloads (data and metadata) with AES-256-GCM.
type PayloadCodec struct {
	aead  cipher.AEAD
	keyID string
}

var _ converter.PayloadCodec = (*PayloadCodec)(nil)

// NewPayloadCodec builds the payload codec from the shared key.
func NewPayloadCodec(key string) (*PayloadCodec, error) {
	k, err := deriveKeys(key)
	if err != nil {
		return nil, err
	}
	aead, err := newGCM(k.payload)
	if err != nil {
		return nil, err
	}
	return &PayloadCodec{aead: aead, keyID: k.id}, nil
}

// Encode implements converter.PayloadCodec.
func (c *PayloadCodec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("encode payload: %w", err)
		}
		ct, err := seal(c.aead, plain, []byte(c.keyID))
		if err != nil {
			return nil, err
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				metadataEncoding: []byte(encodingName),
				metadataKeyID:    []byte(c.keyID),
			},
			Data: ct,
		}
	}
	return out, nil
}

// Decode implements converter.PayloadCodec. Payloads that were not encrypted
// by this codec pass through unchanged.
func (c *PayloadCodec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[metadataEncoding]) != encodingName {
			out[i] = p
			continue
		}
		if id := string(p.GetMetadata()[metadataKeyID]); id != c.keyID {
			return nil, fmt.Errorf("payload was encrypted with %s id %q, this process has %q: all CLIs and workers need the same key", KeyEnv, id, c.keyID)
		}
		plain, err := open(c.aead, p.GetData(), []byte(c.keyID))
		if err != nil {
			return nil, err
		}
		var decoded commonpb.Payload
		if err := proto.Unmarshal(plain, &decoded); err != nil {
			return nil, fmt.Errorf("decode payload: %w", err)
		}
		out[i] = &decoded
	}
	return out, nil
}

// NewDataConverter returns the SDK's default converter wrapped with the
// payload codec; CLI and workers must both use it.
func NewDataConverter(key string) (converter.DataConverter, error) {
	c, err := NewPayloadCodec(key)
	if err != nil {
		return nil, err
	}
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c), nil
}

// NewHTTPHandler serves Temporal's remote codec protocol (POST /encode and
// /decode) for the Web UI. allowOrigin is the UI's origin, which the browser
// needs in CORS headers. Sealed secrets inside decoded payloads stay sealed:
// this handler has only the payload sub-key.
func NewHTTPHandler(key string, allowOrigin string) (http.Handler, error) {
	c, err := NewPayloadCodec(key)
	if err != nil {
		return nil, err
	}
	inner := converter.NewPayloadCodecHTTPHandler(c)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if allowOrigin != "" {
			w.Header().Set("Access-Control-Allow-Origin", allowOrigin)
			w.Header().Set("Access-Control-Allow-Methods", "POST, OPTIONS")
			w.Header().Set("Access-Control-Allow-Headers", "Content-Type, X-Namespace, Authorization")
			w.Header().Set("Vary", "Origin")
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		inner.ServeHTTP(w, r)
	}), nil
}
