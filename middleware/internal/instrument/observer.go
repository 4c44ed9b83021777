package instrument

import (
	"context"
	"net/http"
	"time"
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
