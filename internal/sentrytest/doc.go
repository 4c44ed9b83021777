// Package sentrytest is a Sentry ingestion endpoint for tests: it accepts
// envelopes at /api/<project>/envelope/ the way sentry.io (Relay) does and
// records them, so that tests can drive a real client (glassbox's Sentry
// exporter, sentry-go) against 127.0.0.1 and assert on the bytes it sent.
//
// The server checks what Relay checks: POST only, the project ID of the
// path, the public key in the X-Sentry-Auth header (or the sentry_key query
// parameter), a well-formed envelope (header line, items with a "type",
// payload lengths when given), optional gzip/deflate Content-Encoding,
// event payloads of the schema's shape (field types, levels, exceptions,
// frames, breadcrumbs, request headers, the event ID matching the
// envelope's, tags within Sentry's 200-character limits) and client
// reports as the spec defines them (known discard reasons and data
// categories, positive integer quantities, nothing else; ClientReports
// and Discarded expose what arrived). It answers 200 with
// {"id":"<event_id>"}. It can be told to enforce a rate limit as Relay
// does (the limited items are dropped, client reports kept; 429 with
// Retry-After and X-Sentry-Rate-Limits when nothing is left, else 200
// with X-Sentry-Rate-Limits), to fail with 5xx, to be slow, to hang
// until resumed (Pause, Resume) or to hang up without answering
// (SetHangUp).
//
// The one call most tests need:
//
//	srv := sentrytest.NewServer(t)
//	rep, _ := sentry.New(sentry.WithDSN(srv.DSN()))
package sentrytest
