// Package sentry reports failures to Sentry with what triage needs: the
// correlation and trace IDs as tags and trace context, the request's most
// recent log records as breadcrumbs, a stable fingerprint, the exception
// chain of wrapped errors with their stacks, and request data redacted by
// the same log.Redactor code as the access log and spans (an allowlist of
// headers, every request-controlled string sanitised and capped), so that
// no secret, hostile byte or oversized value reaches an event.
//
// A Reporter is at once a middleware.Observer (the HTTP and gRPC
// middleware call it around every request; it reports panics, 5xx
// statuses and failing gRPC codes, exactly one event per failure) and a
// log.Sink (records logged with the request's context become breadcrumbs;
// ERROR records carrying an error can be reported). It speaks Sentry's
// envelope protocol itself, without sentry-go's root package, which links
// the Go toolchain's go/build into every binary; sentry-go's report
// package keeps the client reports that tell Sentry what was discarded
// and why. Events with the same fingerprint within a minute are sent once
// and then counted, a queue bounded in bytes holds the rest: requests
// never wait for Sentry, drops are counted in Stats and reported to
// Sentry, and Shutdown returns by its deadline.
//
// New reads SENTRY_DSN, SENTRY_ENVIRONMENT, SENTRY_RELEASE,
// SENTRY_SAMPLE_RATE and GLASSBOX_KIBANA_URL; options win. The one call
// most people need (glassbox.Start makes it):
//
//	rep, err := sentry.New(sentry.WithService(log.Service{Name: "checkout"}))
package sentry
