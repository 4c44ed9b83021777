package middleware

import (
	"context"

	"github.com/glassbox-obs/glassbox/middleware/internal/instrument"
)

// Request describes an inbound request to an Observer, with the fields
//
//	Protocol      string        // "http" or "grpc"
//	HTTP          *http.Request // the inbound HTTP request; nil for gRPC
//	Method        string        // the HTTP method, or the full gRPC method ("/pkg.Service/Method")
//	Route         string        // the matched route pattern (HTTP), or the full gRPC method
//	CorrelationID string        // the request's correlation ID
//
// For HTTP, Route is known only once the handler has run (ServeMux sets
// r.Pattern while routing): it is empty in Begin and set for End.
//
// Its method Scrub(s string) string returns s with every credential the
// request carries replaced by "[REDACTED]": the values of its headers or
// gRPC metadata on the redaction list (Authorization and the credentials
// after "Bearer", "ApiKey" or "Basic", including Basic's decoded
// "user:password" and password; Cookie and each cookie's value; API-key
// headers; the break-glass debug token), and of its query parameters on
// the list (api_key, user[password], a presigned URL's signature, ...),
// raw and unescaped; values shorter than 8 bytes are left alone. The
// middleware records a panic message and a gRPC error message through it
// (span event and status, "panic recovered" and access records), and the
// Sentry exporter every exception message; an Observer that records a
// message of the request's failure should too. A Request the middleware
// did not make is returned as is.
type Request = instrument.Request

// Outcome is how a request ended, with the fields
//
//	Status   int           // HTTP status written (see below); 0 for gRPC
//	GRPCCode uint32        // gRPC status code (a codes.Code value); 0 (OK) for HTTP
//	Err      error         // the error a gRPC handler returned; http.ErrAbortHandler for an aborted HTTP handler; else nil
//	Panic    any           // the recovered panic value, or nil
//	Stack    []byte        // the stack of the goroutine that panicked, or nil
//	Duration time.Duration // how long the handler ran
//
// Status is 200 when the handler wrote nothing, 500 when it panicked
// before writing, and 0 when it aborted with http.ErrAbortHandler before
// writing (nothing was sent; Panic is then nil and Err is
// http.ErrAbortHandler, which is re-panicked). After a panic once the
// response had started, End is called and then the middleware panics
// with http.ErrAbortHandler.
type Outcome = instrument.Outcome

// Observer is told when each request begins and ends. The Sentry
// integration implements it to clone a hub per request and report failures;
// the HTTP and gRPC middleware call it.
//
// Concurrency: Begin and End are called concurrently for different
// requests; for one request, Begin happens before End, on the request's
// goroutine. Neither may block on a backend.
//
// Lifetime: req and out belong to the middleware, which reuses them for
// other requests once End has returned. An observer must not keep the
// pointers (in the context Begin returns, say): it copies the fields it
// needs later.
type Observer interface {
	// Begin returns the context the handler will run with.
	Begin(ctx context.Context, req *Request) context.Context
	// End is called once after the handler returned or panicked, with the
	// context returned by Begin. It returns the ID of an error event it
	// recorded (written to the request's error log record as error.id),
	// or "".
	End(ctx context.Context, req *Request, out *Outcome) (eventID string)
}
