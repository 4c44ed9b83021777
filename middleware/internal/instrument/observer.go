package instrument

import (
	"context"
	"net/http"
	"time"

	"github.com/glassbox-obs/glassbox/internal/credential"
	"github.com/glassbox-obs/glassbox/log"
)

// Request describes an inbound request or call to an Observer. Package
// middleware exports it as middleware.Request.
type Request struct {
	// Protocol is "http" or "grpc".
	Protocol string
	// HTTP is the request the handler gets (its context is the one Begin
	// returns); nil for gRPC. ServeMux sets its Pattern while routing, so
	// an observer that keeps this pointer reads the route during the
	// request from HTTP.Pattern.
	HTTP *http.Request
	// Method is the HTTP method, or the full gRPC method ("/pkg.Service/Method").
	Method string
	// Route is the matched route pattern (HTTP) or the full gRPC method.
	// For HTTP it is known only once the handler has run (ServeMux sets
	// r.Pattern while routing): it is empty in Begin and set for End.
	Route string
	// CorrelationID is the request's correlation ID.
	CorrelationID string

	// creds is where Scrub finds the request's credentials (see Bind).
	creds credentialSource
}

// credentialSource is what Bind ties a Request to.
type credentialSource struct {
	bound    bool
	redactor *log.Redactor
	// For gRPC, the call's context and how to read its incoming metadata
	// (grpcmw's function: this package does not import grpc-go).
	ctx      context.Context
	metadata func(context.Context) map[string][]string
}

// Bind ties req to the redaction list of c, so that req.Scrub knows the
// credentials the request carries: those of req.HTTP for HTTP; for gRPC,
// the incoming metadata that md reads from ctx. Reading them waits until
// Scrub is called, which happens only when something is recorded of a
// failure: a request that succeeds pays nothing.
func (c *Config) Bind(ctx context.Context, req *Request, md func(context.Context) map[string][]string) {
	req.creds = credentialSource{bound: true, redactor: c.Redactor, ctx: ctx, metadata: md}
}

// Scrub returns s with every credential the request carries replaced by
// "[REDACTED]": the values of its headers or gRPC metadata whose names
// are on the middleware's redaction list (Authorization, Cookie and each
// cookie's value, API-key headers, the break-glass debug token, and the
// credentials of a "Bearer", "ApiKey" or "Basic" value), and of its query
// parameters whose keys are (api_key, a presigned URL's signature, ...),
// raw and unescaped; values shorter than 8 bytes are left alone. A panic
// message that quotes the request's token is recorded without it
// everywhere: the span's exception event and status, the "panic
// recovered" record, the Sentry event's exceptions. glassbox cannot know
// other secrets (one read from the request body, or from a database):
// those a handler must keep out of its messages. A Request the middleware
// did not make returns s.
func (r *Request) Scrub(s string) string {
	if r == nil || !r.creds.bound || s == "" {
		return s
	}
	var header map[string][]string
	var query string
	switch {
	case r.HTTP != nil:
		header = r.HTTP.Header
		if r.HTTP.URL != nil {
			query = r.HTTP.URL.RawQuery
		}
	case r.creds.metadata != nil && r.creds.ctx != nil:
		header = r.creds.metadata(r.creds.ctx)
	}
	return credential.Scrub(s, credential.Values(r.creds.redactor, header, query))
}

// Outcome is how a request or call ended. Package middleware exports it as
// middleware.Outcome.
type Outcome struct {
	// Status is the HTTP status code written (200 when the handler wrote
	// nothing, 500 when it panicked before writing); 0 when the handler
	// aborted with http.ErrAbortHandler before writing (nothing was sent),
	// and 0 for gRPC. After a panic once the response had started, End is
	// called and then the middleware panics with http.ErrAbortHandler.
	Status int
	// GRPCCode is the gRPC status code (a google.golang.org/grpc/codes.Code
	// value); 0 (OK) for HTTP.
	GRPCCode uint32
	// Err is the error a gRPC handler returned, or nil. For HTTP it is
	// http.ErrAbortHandler when the handler aborted with that panic (which
	// is then re-panicked, and Panic is nil), else nil.
	Err error
	// Panic is the recovered panic value, or nil when the handler did not panic.
	Panic any
	// Stack is the stack trace of the goroutine that panicked, or nil.
	Stack []byte
	// Duration is how long the handler ran.
	Duration time.Duration
}

// Observer is told when each request begins and ends; middleware.Observer
// has the same methods and documents them.
type Observer interface {
	Begin(ctx context.Context, req *Request) context.Context
	End(ctx context.Context, req *Request, out *Outcome) (eventID string)
}

// BeginObservers calls Begin of each observer, in order, and returns the
// context the handler runs with.
func (c *Config) BeginObservers(ctx context.Context, req *Request) context.Context {
	for _, o := range c.Observers {
		ctx = o.Begin(ctx, req)
	}
	return ctx
}

// EndObservers calls End of each observer, in reverse order, and returns
// the first event ID one of them recorded, or "".
func (c *Config) EndObservers(ctx context.Context, req *Request, out *Outcome) (eventID string) {
	for i := len(c.Observers) - 1; i >= 0; i-- {
		if id := c.Observers[i].End(ctx, req, out); id != "" && eventID == "" {
			eventID = id
		}
	}
	return eventID
}
