package debugtoken

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Header is the HTTP header that carries a token; gRPC metadata uses its
// lowercase form, MDKey.
const (
	Header = "X-Glassbox-Debug"
	MDKey  = "x-glassbox-debug"
)

// Limits of a token and its scope.
const (
	// MaxTokenLen is the longest token accepted; a longer header value
	// is malformed and not looked into.
	MaxTokenLen = 1024
	maxRoute    = 512
	maxService  = 256
	// DefaultMaxTTL is the longest a token may live, from now to its
	// expiry, unless configured otherwise.
	DefaultMaxTTL = time.Hour
)

// tokenPrefix is the version tag every token begins with.
const tokenPrefix = "gbd1"

var b64 = base64.RawURLEncoding

// Claims is what a valid token grants.
type Claims struct {
	// KeyID names the key the token was signed with.
	KeyID string
	// Expiry is when the token stops being valid (second precision).
	Expiry time.Time
	// Route, when not empty, limits the token to requests of that route:
	// an HTTP ServeMux pattern ("GET /orders/{id}") or a full gRPC
	// method ("/shop.Checkout/Pay").
	Route string
	// Service, when not empty, limits the token to that service.
	Service string

	key *Key
}

// Mint returns a token signed with key, valid until exp (truncated to the
// second), for route and service when they are not empty.
func Mint(key Key, exp time.Time, route, service string) (string, error) {
	switch {
	case !ValidKeyID(key.ID):
		return "", errors.New("invalid key ID")
	case len(key.Secret) < MinSecretLen:
		return "", errors.New("key secret too short")
	case !validScope(route, maxRoute):
		return "", errors.New("invalid route: at most 512 bytes of printable UTF-8")
	case !validScope(service, maxService):
		return "", errors.New("invalid service: at most 256 bytes of printable UTF-8")
	case exp.Unix() <= 0:
		return "", errors.New("invalid expiry")
	}
	payload := tokenPrefix + "." + key.ID + "." + strconv.FormatInt(exp.Unix(), 10) + "." +
		b64.EncodeToString([]byte(route)) + "." + b64.EncodeToString([]byte(service))
	tok := payload + "." + b64.EncodeToString(sign(key.Secret, payload))
	if len(tok) > MaxTokenLen {
		return "", errors.New("token too long")
	}
	return tok, nil
}

func sign(secret []byte, payload string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// validScope reports whether s can be a route or service scope: at most
// max bytes of valid UTF-8 without control characters.
func validScope(s string, max int) bool {
	if len(s) > max || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f || r == 0x2028 || r == 0x2029 {
			return false
		}
	}
	return true
}

// parse splits a token into its claims and the MAC it carries, without
// checking the MAC. ok is false when the token is not well-formed.
func parse(tok string) (c Claims, payload string, mac []byte, ok bool) {
	if len(tok) > MaxTokenLen || !strings.HasPrefix(tok, tokenPrefix+".") {
		return c, "", nil, false
	}
	var parts [6]string
	rest := tok
	for i := range parts {
		if i == len(parts)-1 {
			if strings.IndexByte(rest, '.') >= 0 {
				return c, "", nil, false
			}
			parts[i] = rest
			break
		}
		var found bool
		parts[i], rest, found = strings.Cut(rest, ".")
		if !found {
			return c, "", nil, false
		}
	}
	if !ValidKeyID(parts[1]) {
		return c, "", nil, false
	}
	exp, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || exp <= 0 || parts[2][0] == '+' || exp > 1<<40 {
		return c, "", nil, false
	}
	route, err1 := b64.DecodeString(parts[3])
	service, err2 := b64.DecodeString(parts[4])
	mac, err3 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || err3 != nil || len(mac) != sha256.Size ||
		!validScope(string(route), maxRoute) || !validScope(string(service), maxService) {
		return c, "", nil, false
	}
	c = Claims{KeyID: parts[1], Expiry: time.Unix(exp, 0), Route: string(route), Service: string(service)}
	return c, tok[:len(tok)-len(parts[5])-1], mac, true
}
