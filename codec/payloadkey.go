package codec

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
)

// PayloadKeyEnv names the environment variable that carries the payload
// sub-key alone, for the codec server.
const PayloadKeyEnv = "CORSO_CODEC_PAYLOAD_KEY"

// payloadKeyPrefix starts a payload key's text form, so that it is never
// taken for the shared key (plain base64) or the other way round.
const payloadKeyPrefix = "corso-payload-v1."

// PayloadKey is the payload sub-key with the id of the shared key it was
// derived from: enough to encrypt and decrypt payloads, not to derive the
// secret sub-key (HKDF does not run backwards), so a process holding only
// this cannot open sealed credentials.
type PayloadKey struct {
	key []byte
	id  string
}

// DerivePayloadKey derives the payload sub-key from the shared key.
func DerivePayloadKey(shared string) (PayloadKey, error) {
	k, err := deriveKeys(shared)
	if err != nil {
		return PayloadKey{}, err
	}
	return PayloadKey{key: k.payload, id: k.id}, nil
}

// String is the text form PayloadKeyEnv expects. It is a secret.
func (k PayloadKey) String() string {
	return payloadKeyPrefix + k.id + "." + base64.RawURLEncoding.EncodeToString(k.key)
}

var errPayloadKeyForm = fmt.Errorf("%s must be a payload key as `corso codec-server payload-key` prints it (it starts with %s), derived from %s",
	PayloadKeyEnv, payloadKeyPrefix, KeyEnv)

// ParsePayloadKey reads a payload key in its text form.
func ParsePayloadKey(s string) (PayloadKey, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), payloadKeyPrefix)
	if !ok {
		return PayloadKey{}, errPayloadKeyForm
	}
	id, enc, ok := strings.Cut(rest, ".")
	key, err := base64.RawURLEncoding.DecodeString(enc)
	if !ok || err != nil || len(key) != keySize || len(id) != 8 {
		return PayloadKey{}, errPayloadKeyForm
	}
	return PayloadKey{key: key, id: id}, nil
}

// ErrNoPayloadKey is returned when the codec server has no payload key.
var ErrNoPayloadKey = errors.New(PayloadKeyEnv + " is not set: the codec server takes only the payload sub-key " +
	"(print it with `corso codec-server payload-key`, where " + KeyEnv + " is set), never " + KeyEnv + " itself")

// PayloadKeyFromEnv reads the payload key from the environment.
func PayloadKeyFromEnv() (PayloadKey, error) {
	v := strings.TrimSpace(os.Getenv(PayloadKeyEnv))
	if v == "" {
		return PayloadKey{}, ErrNoPayloadKey
	}
	return ParsePayloadKey(v)
}
