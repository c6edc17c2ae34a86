package codec

import (
	"crypto/cipher"
	"encoding/json"
	"errors"
	"fmt"
)

// Sealed is a secret encrypted with the secret sub-key. It is what workflow
// inputs carry instead of a passphrase or a cloud key: even a payload
// decoded for the Web UI shows only ciphertext.
type Sealed []byte

// Sealer seals and opens secrets.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer builds a sealer from the shared key.
func NewSealer(key string) (*Sealer, error) {
	k, err := deriveKeys(key)
	if err != nil {
		return nil, err
	}
	aead, err := newGCM(k.secret)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

var sealedAD = []byte("corso sealed secret v1")

// Seal encrypts v (any JSON-encodable value).
func (s *Sealer) Seal(v any) (Sealed, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("seal secret: %w", err)
	}
	return seal(s.aead, plain, sealedAD)
}

// Open decrypts a sealed value into v.
func (s *Sealer) Open(sealed Sealed, v any) error {
	if len(sealed) == 0 {
		return errors.New("no sealed secret in the request")
	}
	plain, err := open(s.aead, sealed, sealedAD)
	if err != nil {
		return err
	}
	return json.Unmarshal(plain, v)
}
