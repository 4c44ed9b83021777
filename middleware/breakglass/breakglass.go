package breakglass

import (
	"errors"
	"fmt"
	"time"

	"github.com/glassbox-obs/glassbox/internal/debugtoken"
	"github.com/glassbox-obs/glassbox/internal/textsafe"
)

// Header is the HTTP header that carries a token; gRPC metadata uses its
// lowercase form, x-glassbox-debug.
const Header = debugtoken.Header

// DefaultMaxTTL is the longest a token may be valid for, from now to its
// expiry, unless New is told otherwise.
const DefaultMaxTTL = debugtoken.DefaultMaxTTL

// Key is a key tokens are signed with: its ID, which a token names (1 to
// 64 characters [A-Za-z0-9_-]), and a secret of at least 16 bytes.
type Key struct {
	ID     string
	Secret []byte
}

// ParseKeys parses the GLASSBOX_DEBUG_KEYS syntax: comma-separated
// "kid:secret" entries, the secret in base64 (standard or URL-safe,
// padded or not). Several keys allow rotation. An empty string yields no
// key. Errors never show a secret.
func ParseKeys(s string) ([]Key, error) {
	keys, err := debugtoken.ParseKeys(s)
	if err != nil {
		return nil, err
	}
	out := make([]Key, len(keys))
	for i, k := range keys {
		out[i] = Key(k)
	}
	return out, nil
}

// Mint returns a token signed with key, valid until now+ttl (to the
// second), for the requests of route and the service named service when
// they are not empty. route is an HTTP ServeMux pattern
// ("GET /orders/{id}") or a full gRPC method ("/shop.Checkout/Pay"; with a
// trailing slash, "/shop.Checkout/", every method of the service).
func Mint(key Key, ttl time.Duration, route, service string) (string, error) {
	if ttl <= 0 {
		return "", errors.New("breakglass: the TTL must be positive")
	}
	return debugtoken.Mint(debugtoken.Key(key), time.Now().Add(ttl), route, service)
}

// Verifier checks tokens and the grants passed on by debugged callers,
// for the middleware (middleware.WithBreakGlass), and counts the
// outcomes. It is safe for concurrent use.
type Verifier debugtoken.Verifier

// New returns a Verifier of keys (at least one) for the service named
// service: tokens scoped to another service are refused, and "" refuses
// every service-scoped token. Tokens and grants that expire more than
// maxTTL from now are refused; maxTTL <= 0 means DefaultMaxTTL.
func New(service string, keys []Key, maxTTL time.Duration) (*Verifier, error) {
	if len(keys) == 0 {
		return nil, errors.New("breakglass: no key")
	}
	dk := make([]debugtoken.Key, len(keys))
	for i, k := range keys {
		if !debugtoken.ValidKeyID(k.ID) || len(k.Secret) < debugtoken.MinSecretLen {
			return nil, fmt.Errorf("breakglass: key %q: want an ID of 1 to 64 characters [A-Za-z0-9_-] and a secret of at least %d bytes",
				textsafe.Sanitize(k.ID, 64), debugtoken.MinSecretLen)
		}
		if debugtoken.FindKey(dk[:i], k.ID) != nil {
			return nil, fmt.Errorf("breakglass: key %q: listed twice", k.ID)
		}
		dk[i] = debugtoken.Key(k)
	}
	return (*Verifier)(debugtoken.NewVerifier(dk, service, maxTTL)), nil
}

// Stats counts the tokens and grants a Verifier saw.
type Stats struct {
	// Accepted counts the requests debugged on a token; each wrote an
	// audit record.
	Accepted uint64
	// Malformed, Forged (an unknown key, or a MAC that does not match),
	// Expired, TTLTooLong and WrongScope count the tokens refused.
	Malformed, Forged, Expired, TTLTooLong, WrongScope uint64
	// GrantsAccepted counts the requests debugged on a grant passed on by
	// their caller (each wrote an audit record); GrantsRefused the grants
	// refused, whatever the reason.
	GrantsAccepted, GrantsRefused uint64
}

// Stats returns the counters. A nil Verifier has none.
func (v *Verifier) Stats() Stats {
	if v == nil {
		return Stats{}
	}
	t, g := (*debugtoken.Verifier)(v).Counts()
	s := Stats{
		Accepted: t[debugtoken.Accepted], Malformed: t[debugtoken.Malformed], Forged: t[debugtoken.Forged],
		Expired: t[debugtoken.Expired], TTLTooLong: t[debugtoken.TTLTooLong], WrongScope: t[debugtoken.WrongScope],
		GrantsAccepted: g[debugtoken.Accepted],
	}
	for r := debugtoken.Malformed; r <= debugtoken.WrongScope; r++ {
		s.GrantsRefused += g[r]
	}
	return s
}
