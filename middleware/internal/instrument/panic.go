package instrument

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/internal/errtype"
	"github.com/glassbox-obs/glassbox/internal/textsafe"
)

// maxPanicMessage caps the recorded message of a panic value.
const maxPanicMessage = 4096

// RecoveredPanic is a panic the middleware recovered, as the span event and
// the error record show it.
type RecoveredPanic struct {
	// Message is fmt.Sprint of the panic value without the request's
	// credentials (Request.Scrub), sanitised and cut to 4 KiB.
	Message string
	// Type is error.type of the panic value: its Go type ("string"), or for
	// an error the type of the first error in its chain that is not an
	// attribute carrier (see errors.With).
	Type string
	// Stack is the goroutine's stack at the recovery (debug.Stack).
	Stack []byte
}

// NewRecoveredPanic describes the panic value v recovered with stack
// during req.
func NewRecoveredPanic(v any, stack []byte, req *Request) RecoveredPanic {
	return RecoveredPanic{Message: textsafe.Sanitize(req.Scrub(fmt.Sprint(v)), maxPanicMessage), Type: errtype.OfValue(v), Stack: stack}
}

// recordOnSpan adds the semantic-convention exception event to span and
// sets its status to Error ("panic: " and the message).
func (p *RecoveredPanic) recordOnSpan(span oteltrace.Span) {
	span.AddEvent(semconv.ExceptionEventName, oteltrace.WithAttributes(
		semconv.ExceptionTypeKey.String(p.Type),
		semconv.ExceptionMessageKey.String(p.Message),
		semconv.ExceptionStacktraceKey.String(string(p.Stack)),
	))
	span.SetStatus(codes.Error, "panic: "+p.Message)
}

// logPanic writes the "panic recovered" error record through the
// configured logger, if it is enabled at Error: error.message, error.type,
// error.stack_trace, then attrs (the request's protocol fields), then
// error.id when eventID (the event an Observer recorded) is not empty.
func (c *Config) logPanic(ctx context.Context, p *RecoveredPanic, eventID string, attrs []slog.Attr) {
	l := c.Logger()
	if !l.Enabled(ctx, slog.LevelError) {
		return
	}
	rec := slog.NewRecord(time.Now(), slog.LevelError, "panic recovered", 0)
	rec.AddAttrs(
		slog.String("error.message", p.Message),
		slog.String("error.type", p.Type),
		slog.String("error.stack_trace", string(p.Stack)),
	)
	rec.AddAttrs(attrs...)
	if eventID != "" {
		rec.AddAttrs(slog.String(AttrErrorID, textsafe.Sanitize(eventID, 64)))
	}
	_ = l.Handler().Handle(ctx, rec)
}

// ReportSkippedPanic records the panic of a request or call that gets no
// span and no access record (a health check, a filtered request): the
// observers are begun and ended for it (they are not called for skipped
// requests otherwise), with req.Route set to route once Begin returned,
// then the "panic recovered" record is written with attrs, the fields
// that locate the request. out must carry the panic and its stack.
func (c *Config) ReportSkippedPanic(ctx context.Context, req *Request, route string, out *Outcome, attrs ...slog.Attr) {
	var eventID string
	if len(c.Observers) > 0 {
		ctx = c.BeginObservers(ctx, req)
		req.Route = route
		eventID = c.EndObservers(ctx, req, out)
	}
	rp := NewRecoveredPanic(out.Panic, out.Stack, req)
	c.logPanic(ctx, &rp, eventID, attrs)
}
