package debugtoken

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// MinSecretLen is the shortest secret a key may have: 16 bytes (128 bits).
const MinSecretLen = 16

// maxKeyID is the longest key ID.
const maxKeyID = 64

// Key is one signing key: its ID, which tokens name, and its secret.
type Key struct {
	ID     string
	Secret []byte
}

// ValidKeyID reports whether id can name a key: 1 to 64 characters of
// [A-Za-z0-9_-], so that it needs no escaping in a token, a tracestate
// value or a log field.
func ValidKeyID(id string) bool {
	if id == "" || len(id) > maxKeyID {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ParseKeys parses the GLASSBOX_DEBUG_KEYS syntax: comma-separated
// "kid:secret" entries, the secret in standard or URL-safe base64 (padded
// or not), at least 16 bytes once decoded. Several keys allow rotation: a
// token names the key it was made with. Blank entries are skipped; an
// empty string yields no key and no error. Errors never contain a secret.
func ParseKeys(s string) ([]Key, error) {
	var keys []Key
	for i, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		id, secret, ok := strings.Cut(entry, ":")
		id = strings.TrimSpace(id)
		if !ok || !ValidKeyID(id) {
			return nil, fmt.Errorf("entry %d: want kid:base64secret with a key ID of 1 to 64 characters [A-Za-z0-9_-]", i+1)
		}
		raw, err := decodeSecret(strings.TrimSpace(secret))
		if err != nil {
			return nil, fmt.Errorf("key %q: the secret is not base64", id)
		}
		if len(raw) < MinSecretLen {
			return nil, fmt.Errorf("key %q: the secret has %d bytes, want at least %d", id, len(raw), MinSecretLen)
		}
		for _, k := range keys {
			if k.ID == id {
				return nil, fmt.Errorf("key %q: listed twice", id)
			}
		}
		keys = append(keys, Key{ID: id, Secret: raw})
	}
	return keys, nil
}

func decodeSecret(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("empty")
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// FindKey returns the key named id, or nil.
func FindKey(keys []Key, id string) *Key {
	for i := range keys {
		if keys[i].ID == id {
			return &keys[i]
		}
	}
	return nil
}
