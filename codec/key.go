package codec

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
)

// KeyEnv names the environment variable that carries the shared key.
const KeyEnv = "CORSO_CODEC_KEY"

const keySize = 32

// ErrNoKey is returned when no codec key is configured.
var ErrNoKey = errors.New(KeyEnv + " is not set: every corso CLI and worker needs the same key " +
	"(generate one with `openssl rand -base64 32`; the dev stack writes it to corso-dev.env)")

// GenerateKey returns a new random key in the form KeyEnv expects.
func GenerateKey() (string, error) {
	k := make([]byte, keySize)
	if _, err := rand.Read(k); err != nil {
		return "", fmt.Errorf("generate codec key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(k), nil
}

// KeyFromEnv reads the shared key from the environment.
func KeyFromEnv() (string, error) {
	k := strings.TrimSpace(os.Getenv(KeyEnv))
	if k == "" {
		return "", ErrNoKey
	}
	return k, nil
}

// keys are the sub-keys derived from the shared key: one for payloads, one
// for sealed secrets, and a short id that names the key in payload metadata
// so a rotated key is detected instead of failing with a vague GCM error.
type keys struct {
	payload []byte
	secret  []byte
	id      string
}

func deriveKeys(encoded string) (keys, error) {
	master, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
	if err != nil || len(master) != keySize {
		return keys{}, fmt.Errorf("%s must be %d random bytes in base64 (generate one with `openssl rand -base64 32`)", KeyEnv, keySize)
	}
	derive := func(label string, n int) []byte {
		k, err := hkdf.Key(sha256.New, master, nil, "corso "+label, n)
		if err != nil {
			panic(err) // only fails for invalid lengths, which are constants here
		}
		return k
	}
	return keys{
		payload: derive("payload", keySize),
		secret:  derive("secret", keySize),
		id:      base64.RawURLEncoding.EncodeToString(derive("key id", 6)),
	}, nil
}
