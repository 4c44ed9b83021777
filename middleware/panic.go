package middleware

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/internal/errtype"
)

// maxPanicMessage caps the recorded message of a panic value.
const maxPanicMessage = 4096

// RecoveredPanic is a panic the middleware recovered, as the span event and
// the error record show it. The HTTP middleware and package grpcmw share
// it.
type RecoveredPanic struct {
	// Message is fmt.Sprint of the panic value, sanitised and cut to 4 KiB.
	Message string
	// Type is error.type of the panic value: its Go type ("string"), or for
	// an error the type of the first error in its chain that is not an
	// attribute carrier (see errors.With).
	Type string
	// Stack is the goroutine's stack at the recovery (debug.Stack).
	Stack []byte
}

// NewRecoveredPanic describes the panic value v recovered with stack.
func NewRecoveredPanic(v any, stack []byte) RecoveredPanic {
	return RecoveredPanic{Message: sanitize(fmt.Sprint(v), maxPanicMessage), Type: errtype.OfValue(v), Stack: stack}
}

// RecordOnSpan adds the semantic-convention exception event to span and
// sets its status to Error ("panic: " and the message).
func (p *RecoveredPanic) RecordOnSpan(span oteltrace.Span) {
	span.AddEvent(semconv.ExceptionEventName, oteltrace.WithAttributes(
		semconv.ExceptionTypeKey.String(p.Type),
		semconv.ExceptionMessageKey.String(p.Message),
		semconv.ExceptionStacktraceKey.String(string(p.Stack)),
	))
	span.SetStatus(codes.Error, "panic: "+p.Message)
}

// LogPanic writes the "panic recovered" error record through the
// configured logger, if it is enabled at Error: error.message, error.type,
// error.stack_trace, then attrs (the request's protocol fields), then
// error.id when eventID (the event an Observer recorded) is not empty.
func (c *Config) LogPanic(ctx context.Context, p *RecoveredPanic, eventID string, attrs ...slog.Attr) {
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
		rec.AddAttrs(slog.String(AttrErrorID, sanitize(eventID, 64)))
	}
	HandleRecord(ctx, l.Handler(), rec)
}
