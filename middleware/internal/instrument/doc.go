// Package instrument holds what the HTTP middleware (package middleware)
// and the gRPC interceptors (package grpcmw) share: the resolved options
// (Config) and the default set by middleware.SetDefault, the inbound
// decision (trust, correlation ID, trace context, baggage), the observer
// calls, panic records, the request metrics (metrics*.go: instruments and
// their cached attribute sets), and Finish, the one end-of-request
// function that turns an outcome into level, error.type, span status,
// metric and access record for both protocols.
//
// The protocols keep only what is theirs: reading the request, the span's
// and the record's protocol fields. A request's end is one call:
//
//	c.Finish(ctx, &instrument.End{Req: req, Out: out, Span: span, Protocol: state})
package instrument
