package debugtoken

import (
	"crypto/hmac"
	"sync/atomic"
	"time"
)

// Reason is the outcome of checking a token or a grant.
type Reason int

// The outcomes of Verify and VerifyGrant. Every one but Accepted leaves
// the request as it would be without the header.
const (
	Accepted   Reason = iota
	Malformed         // not a token (or grant) at all: wrong shape, too long, bad encoding
	Forged            // an unknown key ID, or a MAC that does not match
	Expired           // valid, but its expiry has passed
	TTLTooLong        // valid, but it expires further ahead than the maximum TTL allows
	WrongScope        // valid, but for another route or service
)

// String returns the reason's name, as Stats and the documentation use it.
func (r Reason) String() string {
	switch r {
	case Accepted:
		return "accepted"
	case Malformed:
		return "malformed"
	case Forged:
		return "forged"
	case Expired:
		return "expired"
	case TTLTooLong:
		return "ttl_too_long"
	case WrongScope:
		return "wrong_scope"
	}
	return "unknown"
}

// Verifier checks tokens and grants against a key list and counts the
// outcomes. It is safe for concurrent use.
type Verifier struct {
	keys    []Key
	maxTTL  time.Duration
	service string

	tokens [WrongScope + 1]atomic.Uint64
	grants [WrongScope + 1]atomic.Uint64
}

// NewVerifier returns a Verifier of keys (copied) for the service named
// service ("" when unknown: service-scoped tokens are then refused). A
// token or grant expiring more than maxTTL from now is refused;
// maxTTL <= 0 means DefaultMaxTTL.
func NewVerifier(keys []Key, service string, maxTTL time.Duration) *Verifier {
	if maxTTL <= 0 {
		maxTTL = DefaultMaxTTL
	}
	cp := make([]Key, len(keys))
	for i, k := range keys {
		cp[i] = Key{ID: k.ID, Secret: append([]byte(nil), k.Secret...)}
	}
	return &Verifier{keys: cp, maxTTL: maxTTL, service: service}
}

// Service returns the service name tokens are checked against.
func (v *Verifier) Service() string { return v.service }

// MaxTTL returns the longest validity accepted.
func (v *Verifier) MaxTTL() time.Duration { return v.maxTTL }

// Verify checks tok at time now: its shape, its MAC (in constant time),
// its expiry, its TTL and its service scope. The route scope is the
// caller's to check, with MatchRoute semantics of its protocol; it calls
// Count with WrongScope when the route does not match, or with Accepted.
// Verify counts every outcome but Accepted itself.
func (v *Verifier) Verify(tok string, now time.Time) (Claims, Reason) {
	c, payload, mac, ok := parse(tok)
	if !ok {
		return Claims{}, v.count(Malformed)
	}
	k := FindKey(v.keys, c.KeyID)
	if k == nil {
		// Spend the same work on an unknown key as on a known one.
		_ = hmac.Equal(sign(v.dummySecret(), payload), mac)
		return Claims{}, v.count(Forged)
	}
	if !hmac.Equal(sign(k.Secret, payload), mac) {
		return Claims{}, v.count(Forged)
	}
	switch {
	case !now.Before(c.Expiry):
		return Claims{}, v.count(Expired)
	case c.Expiry.Sub(now) > v.maxTTL:
		return Claims{}, v.count(TTLTooLong)
	case c.Service != "" && c.Service != v.service:
		return Claims{}, v.count(WrongScope)
	}
	c.key = k
	return c, Accepted
}

func (v *Verifier) dummySecret() []byte {
	if len(v.keys) > 0 {
		return v.keys[0].Secret
	}
	return make([]byte, MinSecretLen)
}

// Count records the outcome r of a token whose route the caller checked.
func (v *Verifier) Count(r Reason) Reason { return v.count(r) }

func (v *Verifier) count(r Reason) Reason {
	v.tokens[r].Add(1)
	return r
}

// Counts returns how many tokens and how many grants ended with each
// Reason, indexed by Reason.
func (v *Verifier) Counts() (tokens, grants [WrongScope + 1]uint64) {
	for i := range v.tokens {
		tokens[i] = v.tokens[i].Load()
		grants[i] = v.grants[i].Load()
	}
	return tokens, grants
}

// Grant returns the grant an accepted token gives its request.
func (c *Claims) Grant() *Grant {
	if c.key == nil {
		return nil
	}
	return &Grant{KeyID: c.KeyID, Expiry: c.Expiry, Route: c.Route, Service: c.Service, secret: c.key.Secret}
}
