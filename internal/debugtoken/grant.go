package debugtoken

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// StateKey is the tracestate list member that carries a grant from a
// debugged request to the services it calls.
const StateKey = "glassbox"

// grantPrefix is the version tag of a grant's tracestate value.
const grantPrefix = "d1"

// Grant is debugging granted to one request: by a token it carried, or
// propagated from its caller. It passes on to the calls the request
// makes as a tracestate member (StateValue) bound to the trace and the
// token's expiry and signed with the token's key, so that a service
// holding the same keys honours it and nobody without a key can make
// one. The token itself is never passed on.
type Grant struct {
	// KeyID and Expiry are the token's.
	KeyID  string
	Expiry time.Time
	// Route and Service are the token's scope; empty for a propagated
	// grant, which holds for every call of the trace.
	Route, Service string
	// Propagated reports that the grant came from the caller's
	// tracestate rather than a token.
	Propagated bool

	secret []byte
	last   atomic.Pointer[stateValue] // the last StateValue made, by trace
}

type stateValue struct {
	traceID [16]byte
	value   string
}

// grantPayload is what a grant's MAC covers.
func grantPayload(kid string, exp int64, traceID [16]byte) string {
	return "gbd1-grant." + kid + "." + strconv.FormatInt(exp, 10) + "." + hex.EncodeToString(traceID[:])
}

// StateValue returns the tracestate value that passes g on within the
// trace traceID: "d1.<kid>.<expiry>.<mac>", printable ASCII without ','
// or '=' and at most 128 bytes.
// The value is made once per trace: every span of a debugged request asks
// for it.
func (g *Grant) StateValue(traceID [16]byte) string {
	if sv := g.last.Load(); sv != nil && sv.traceID == traceID {
		return sv.value
	}
	exp := g.Expiry.Unix()
	mac := sign(g.secret, grantPayload(g.KeyID, exp, traceID))
	v := grantPrefix + "." + g.KeyID + "." + strconv.FormatInt(exp, 10) + "." + b64.EncodeToString(mac)
	g.last.Store(&stateValue{traceID: traceID, value: v})
	return v
}

// VerifyGrant checks the tracestate value of a grant received within the
// trace traceID at time now, and counts the outcome.
func (v *Verifier) VerifyGrant(value string, traceID [16]byte, now time.Time) (*Grant, Reason) {
	g, r := v.verifyGrant(value, traceID, now)
	v.grants[r].Add(1)
	return g, r
}

func (v *Verifier) verifyGrant(value string, traceID [16]byte, now time.Time) (*Grant, Reason) {
	parts := strings.Split(value, ".")
	if len(parts) != 4 || parts[0] != grantPrefix || !ValidKeyID(parts[1]) || traceID == [16]byte{} {
		return nil, Malformed
	}
	exp, err := strconv.ParseInt(parts[2], 10, 64)
	mac, err2 := b64.DecodeString(parts[3])
	if err != nil || err2 != nil || exp <= 0 || exp > 1<<40 || parts[2][0] == '+' || len(mac) != sha256.Size {
		return nil, Malformed
	}
	k := FindKey(v.keys, parts[1])
	if k == nil {
		return nil, Forged
	}
	if !hmac.Equal(sign(k.Secret, grantPayload(parts[1], exp, traceID)), mac) {
		return nil, Forged
	}
	expiry := time.Unix(exp, 0)
	switch {
	case !now.Before(expiry):
		return nil, Expired
	case expiry.Sub(now) > v.maxTTL:
		return nil, TTLTooLong
	}
	return &Grant{KeyID: k.ID, Expiry: expiry, Propagated: true, secret: k.Secret}, Accepted
}

type grantKey struct{}

// WithGrant returns ctx carrying g.
func WithGrant(ctx context.Context, g *Grant) context.Context {
	return context.WithValue(ctx, grantKey{}, g)
}

// GrantFrom returns the grant ctx carries, or nil. A grant whose expiry
// has passed is still returned: the request it was given to keeps it to
// its end.
func GrantFrom(ctx context.Context) *Grant {
	if ctx == nil {
		return nil
	}
	g, _ := ctx.Value(grantKey{}).(*Grant)
	return g
}
