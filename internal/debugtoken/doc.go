// Package debugtoken is break-glass debugging's cryptography, shared by
// the middleware that verifies tokens and the CLI that mints them: the
// key list of GLASSBOX_DEBUG_KEYS, the signed token an engineer sends in
// X-Glassbox-Debug, and the grant a debugged request passes on to the
// services it calls, bound to its trace.
//
// A token is HMAC-SHA256 over its key ID, expiry and optional route and
// service scope; a grant is HMAC-SHA256 over the key ID, the expiry and
// the trace ID, made with the same key. Both are checked in constant time
// (hmac.Equal), and neither can be made without a key.
//
//	tok, _ := debugtoken.Mint(key, exp, "GET /orders/{id}", "checkout")
//	claims, reason := v.Verify(tok, time.Now())
package debugtoken
