package codec

import (
	"crypto/cipher"
	"errors"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

const (
	metadataEncoding = "encoding"
	encodingName     = "binary/corso-aes256gcm"
	metadataKeyID    = "corso-key-id"
)

// PayloadCodec encrypts whole payloads (data and metadata) with AES-256-GCM.
type PayloadCodec struct {
	aead            cipher.AEAD
	keyID           string
	refusePlaintext bool
}

var _ converter.PayloadCodec = (*PayloadCodec)(nil)

// Option changes how a payload codec decodes.
type Option func(*PayloadCodec)

// AcceptUnencrypted says whether Decode lets payloads that were not
// encrypted with the key through unchanged (true) or refuses them with
// ErrUnencrypted (false). A payload codec on its own accepts them: it
// serves the Web UI's codec server and tools, which only display. The
// data converter the CLI and workers use refuses them unless told
// otherwise (a worker reading plaintext written before encryption).
func AcceptUnencrypted(accept bool) Option {
	return func(c *PayloadCodec) { c.refusePlaintext = !accept }
}

// refuseUnencrypted is NewDataConverter's default.
func refuseUnencrypted(c *PayloadCodec) { c.refusePlaintext = true }

// ErrUnencrypted is returned by Decode for a payload that was not
// encrypted with the key, when the codec refuses them.
var ErrUnencrypted = errors.New("refused an unencrypted payload: corso accepts only payloads encrypted with " + KeyEnv +
	" (submit requests with the corso CLI, or encode them through the codec server)")

// NewPayloadCodec builds the payload codec from the shared key.
func NewPayloadCodec(key string, opts ...Option) (*PayloadCodec, error) {
	k, err := DerivePayloadKey(key)
	if err != nil {
		return nil, err
	}
	return NewPayloadCodecFromKey(k, opts...)
}

// NewPayloadCodecFromKey builds the payload codec from the payload sub-key
// alone, for processes that must not hold the shared key.
func NewPayloadCodecFromKey(k PayloadKey, opts ...Option) (*PayloadCodec, error) {
	if len(k.key) == 0 {
		return nil, ErrNoPayloadKey
	}
	aead, err := newGCM(k.key)
	if err != nil {
		return nil, err
	}
	c := &PayloadCodec{aead: aead, keyID: k.id}
	for _, o := range opts {
		o(c)
	}
	return c, nil
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

// Decode implements converter.PayloadCodec. Payloads that were not
// encrypted by this codec pass through unchanged, or are refused with
// ErrUnencrypted (see AcceptUnencrypted).
func (c *PayloadCodec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if enc := string(p.GetMetadata()[metadataEncoding]); enc != encodingName {
			if c.refusePlaintext {
				return nil, fmt.Errorf("%w; this one is %q", ErrUnencrypted, enc)
			}
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
// payload codec; CLI and workers must both use it. It refuses payloads
// that were not encrypted with the key (a request submitted in plaintext)
// unless opts include AcceptUnencrypted(true).
func NewDataConverter(key string, opts ...Option) (converter.DataConverter, error) {
	c, err := NewPayloadCodec(key, append([]Option{refuseUnencrypted}, opts...)...)
	if err != nil {
		return nil, err
	}
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c), nil
}

// NewFailureConverter returns the SDK's failure converter set to move
// failure messages and stack traces into an encoded attributes payload, so
// that they are stored encrypted by dc (which NewDataConverter returns)
// instead of in plaintext: they can name mail subjects, file names and
// folders. Clients that read failures (the CLI) decode them with the same
// converter; the Web UI decodes the payload through the codec server.
func NewFailureConverter(dc converter.DataConverter) converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter:          dc,
		EncodeCommonAttributes: true,
	})
}
