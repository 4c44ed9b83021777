package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/glassbox-obs/glassbox/middleware/breakglass"
)

const debugTokenHelp = `Debug-token mints a break-glass token: a request that carries it in the
X-Glassbox-Debug header (gRPC metadata x-glassbox-debug) is logged from
DEBUG up, its trace is sampled, the services it calls do the same for it,
and each service writes an audit record (event.category iam, the key ID,
the scope, the client, the correlation ID) to every sink.

The key comes from GLASSBOX_DEBUG_KEYS, the services' own variable
("kid:base64secret,..."); --key-id picks one (needed when there are
several). The token is printed on stdout, the header to send it in on
stderr.

Security model: whoever holds a key can mint tokens, so keep the keys with
the people allowed to read a service's DEBUG logs. A token is a bearer
token: until it expires, anyone who has it can debug what it is scoped to
(--route, --service; everything when unscoped). Its scope and expiry are
signed with HMAC-SHA256 and cannot be widened; the services refuse tokens
valid for more than an hour. Scope tokens narrowly and keep the TTL short.
A leaked token is spent by waiting out its TTL, or at once by removing its
key from GLASSBOX_DEBUG_KEYS; rotate by adding a new key, minting with it,
and removing the old one. The token never travels past the service it is
sent to: downstream services get a grant bound to the request's trace.

Examples:

	glassbox debug-token --key-id ops --ttl 10m --route 'GET /orders/{id}' --service checkout
	curl -H "X-Glassbox-Debug: $(glassbox debug-token --ttl 5m)" https://checkout.internal/orders/42
	grpcurl -H "x-glassbox-debug: $(glassbox debug-token --route /shop.Checkout/Pay)" ...

Exit status: 0 when a token was printed, 2 on a usage error (no key, an
unknown key ID, a TTL over the maximum).`

// defaultMaxTTL is the longest TTL debug-token mints, and the longest
// the services accept.
const defaultMaxTTL = breakglass.DefaultMaxTTL

// debugTokenOptions are the flags of "glassbox debug-token".
type debugTokenOptions struct {
	keyID, route, service string
	ttl, maxTTL           time.Duration
}

// debugTokenCommand is "glassbox debug-token".
func debugTokenCommand() *command {
	return &command{
		name:  "debug-token",
		args:  "[flags]",
		short: "mint a break-glass token that turns on debugging for one request",
		long:  debugTokenHelp,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) int {
			o := &debugTokenOptions{}
			fs.StringVar(&o.keyID, "key-id", "", "ID of the key in GLASSBOX_DEBUG_KEYS to sign with (default: the only one)")
			fs.DurationVar(&o.ttl, "ttl", 15*time.Minute, "how long the token is valid")
			fs.DurationVar(&o.maxTTL, "max-ttl", defaultMaxTTL, "refuse a --ttl longer than this (at most 1h)")
			fs.StringVar(&o.route, "route", "", "only for this route: an HTTP ServeMux pattern ('GET /orders/{id}') or a full gRPC method ('/pkg.Service/Method', '/pkg.Service/' for all of its methods)")
			fs.StringVar(&o.service, "service", "", "only for this service (its service.name)")
			return func(_ context.Context, e *env, args []string) int { return o.run(e, args) }
		},
	}
}

func (o *debugTokenOptions) run(e *env, args []string) int {
	key, err := o.check(e, args)
	if err != nil {
		fmt.Fprintf(e.stderr, "glassbox debug-token: %v\nRun 'glassbox help debug-token' for usage.\n", err)
		return exitUsage
	}
	tok, err := breakglass.Mint(key, o.ttl, o.route, o.service)
	if err != nil {
		fmt.Fprintf(e.stderr, "glassbox debug-token: %v\n", err)
		return exitUsage
	}
	fmt.Fprintln(e.stdout, tok)
	scope := "every route of every service with the key"
	switch {
	case o.route != "" && o.service != "":
		scope = fmt.Sprintf("route %q of service %q", o.route, o.service)
	case o.route != "":
		scope = fmt.Sprintf("route %q", o.route)
	case o.service != "":
		scope = fmt.Sprintf("service %q", o.service)
	}
	fmt.Fprintf(e.stderr, "Send it in the header %s (gRPC metadata %s): key %s, %s, valid until %s.\n",
		breakglass.Header, strings.ToLower(breakglass.Header), key.ID, scope,
		time.Now().Add(o.ttl).UTC().Truncate(time.Second).Format(time.RFC3339))
	return exitOK
}

// check validates the flags and returns the key to sign with.
func (o *debugTokenOptions) check(e *env, args []string) (breakglass.Key, error) {
	switch {
	case len(args) > 0:
		return breakglass.Key{}, fmt.Errorf("unexpected argument %q", args[0])
	case o.maxTTL <= 0 || o.maxTTL > defaultMaxTTL:
		return breakglass.Key{}, fmt.Errorf("--max-ttl %v: want a duration above 0 and at most %v", o.maxTTL, defaultMaxTTL)
	case o.ttl <= 0:
		return breakglass.Key{}, fmt.Errorf("--ttl %v: want a positive duration", o.ttl)
	case o.ttl > o.maxTTL:
		return breakglass.Key{}, fmt.Errorf("--ttl %v is longer than the maximum, %v", o.ttl, o.maxTTL)
	}
	keys, err := breakglass.ParseKeys(e.getenv("GLASSBOX_DEBUG_KEYS"))
	if err != nil {
		return breakglass.Key{}, fmt.Errorf("GLASSBOX_DEBUG_KEYS: %w", err)
	}
	if len(keys) == 0 {
		return breakglass.Key{}, errors.New("GLASSBOX_DEBUG_KEYS is not set: it holds the keys tokens are signed with (kid:base64secret,...)")
	}
	if o.keyID == "" {
		if len(keys) > 1 {
			ids := make([]string, len(keys))
			for i, k := range keys {
				ids[i] = k.ID
			}
			return breakglass.Key{}, fmt.Errorf("GLASSBOX_DEBUG_KEYS has %d keys (%s): choose one with --key-id", len(keys), strings.Join(ids, ", "))
		}
		return keys[0], nil
	}
	for _, k := range keys {
		if k.ID == o.keyID {
			return k, nil
		}
	}
	return breakglass.Key{}, fmt.Errorf("no key %q in GLASSBOX_DEBUG_KEYS", safe(o.keyID))
}
