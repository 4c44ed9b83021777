// Package sentry reports failures to Sentry with what triage needs: the
// correlation and trace IDs as tags and trace context, the request's most
// recent log records as breadcrumbs, a stable fingerprint, the exception
// chain of wrapped errors with their stacks, and request data scrubbed by
// the glassbox redaction list: an allowlist of request headers (see
// WithRequestHeaders), every request-controlled string sanitised and
// capped, so that no secret, hostile byte or oversized value reaches an
// event.
//
// A Reporter is at once a middleware.Observer (the HTTP and gRPC
// middleware call it around every request: it clones a Sentry hub per
// request and reports panics, 5xx statuses and failing gRPC codes, exactly
// one event per failure) and a log.Sink (records logged with the request's
// context become breadcrumbs; ERROR records carrying an error can be
// reported). Delivery goes through sentry-go's own HTTP transport behind a
// bounded queue: requests never wait for Sentry, drops are counted in
// Stats, and Shutdown returns by its deadline.
//
// The one call most people need (glassbox.Start does it for SENTRY_DSN):
//
//	rep, err := sentry.New(sentry.WithDSN(dsn), sentry.WithService("checkout"))
package sentry
