// Package breakglass turns full debugging on for single requests in
// production, for whoever holds a token signed with one of the service's
// keys, and for nobody else: the request is logged from DEBUG up, its
// trace is sampled, the services it calls do the same for it, and every
// use leaves an audit record.
//
// Give a Verifier to the middleware and the gRPC interceptors
// (middleware.WithBreakGlass; glassbox.Start does it when
// GLASSBOX_DEBUG_KEYS is set), and mint tokens with `glassbox
// debug-token` or Mint:
//
//	keys, err := breakglass.ParseKeys(os.Getenv("GLASSBOX_DEBUG_KEYS"))
//	v, err := breakglass.New("checkout", keys, time.Hour)
//	h := middleware.HTTP(middleware.WithBreakGlass(v), middleware.WithFlightRecorder(rec))(mux)
//
// # The security model
//
// A token is "gbd1.<kid>.<expiry>.<route>.<service>.<mac>": the MAC is
// HMAC-SHA256, with the secret of key kid, over everything before it, and
// is checked in constant time. Who holds a key can mint tokens: keep the
// keys with whoever may read a service's DEBUG logs. A token is a bearer
// token until its expiry, at most the Verifier's maximum TTL (default one
// hour) away: anyone who has it may debug the routes and services it is
// scoped to (all, when unscoped) until then — the scope and the expiry
// are signed, so they cannot be widened. A leaked token is spent by
// waiting out its TTL, or at once by removing its key; a leaked key by
// removing it. Rotate keys by adding the new one (tokens name their key),
// minting with it, and removing the old one.
//
// Tokens that are malformed, signed with an unknown key or another
// secret, expired (replayed after their expiry), valid for longer than
// the maximum TTL, or scoped to another route or service are ignored:
// the request proceeds as if it carried none. They are counted (Stats)
// and never recorded: the header is redacted wherever headers are.
//
// The token stays at the edge. The calls a debugged request makes carry a
// grant instead, in their tracestate ("glassbox=d1.<kid>.<expiry>.<mac>",
// put there by the sampler glassbox.DebugSampler): HMAC-SHA256 with the
// token's key over the key ID, the expiry and the trace ID. A service
// holding the same key honours it from trusted peers (on a public
// endpoint, those of middleware.WithTrustedPeers) for that trace, until
// the token's expiry, and passes it on. It cannot be made without the
// key, nor moved to another trace, nor extended; a service without the
// keys ignores it and passes it on unchanged.
//
// Every request debugged writes an audit record at WARN to every sink,
// whatever the level: event.category "iam", event.action
// "debug-token-accepted" (or "debug-grant-accepted" downstream),
// glassbox.debug.key_id, glassbox.debug.expires, glassbox.debug.route and
// glassbox.debug.service (the scope), the request's method and path or
// RPC, client.ip and correlation.id: "who turned debugging on for what,
// when" is one query.
package breakglass
