package instrument

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/internal/textsafe"
)

// Protocol supplies a protocol's own fields to Finish. The per-request
// states of the HTTP middleware and the gRPC server interceptors implement
// it; each method appends to dst and returns it.
type Protocol interface {
	// AppendSpanAttrs appends the protocol's attributes of the server span.
	AppendSpanAttrs(dst []attribute.KeyValue) []attribute.KeyValue
	// AppendAccessFields appends the protocol's fields of the access
	// record. It is called only when the record's level is enabled.
	AppendAccessFields(dst []slog.Attr) []slog.Attr
	// AppendPanicFields appends the fields that locate the request in the
	// "panic recovered" record.
	AppendPanicFields(dst []slog.Attr) []slog.Attr
}

// End is the end of one request or call, as its protocol saw it.
type End struct {
	// Req is the request as the observers saw it, Route set.
	Req *Request
	// Out is how it ended: Status (HTTP) or GRPCCode and Err (gRPC),
	// Panic and Stack after a panic, Duration.
	Out *Outcome
	// Span is the server span; Finish ends it.
	Span     oteltrace.Span
	Protocol Protocol
	// Rejected counts the invalid inbound correlation IDs (Inbound.Rejected).
	Rejected int
	// StatusMessage is the gRPC status message of Out.Err; "" for HTTP.
	StatusMessage string
	// SpanAttrs and LogAttrs are where the span's attributes and the
	// access record's fields are collected: the protocol's so far (often
	// none), in an array with room for the rest and 6 more.
	SpanAttrs []attribute.KeyValue
	LogAttrs  []slog.Attr
}

// Finish ends a request or call for both protocols, in this order: the
// request's Flight (its records written if the request failed, see
// WithFlightRecorder), the observers' End (which may record an error
// event), the duration metric (http.server.request.duration or
// rpc.server.call.duration), the span (the protocol's attributes,
// correlation.id, correlation.id_rejected, error.type; the status; the
// exception event of a panic), the "panic recovered" record, then the
// access record ("request completed": the protocol's fields,
// event.duration, error.type, error.message of a gRPC error,
// correlation.id_rejected, error.id; with WithAccessSampling
// glassbox.sample_rate, or no record at all). Level, error.type and span
// status come from the outcome (see judge) and are the same for the span,
// the records and the metric.
func (c *Config) Finish(ctx context.Context, e *End) {
	out := e.Out
	// A handler's error message may quote the request's token.
	statusMessage := e.Req.Scrub(e.StatusMessage)
	v := c.judge(e.Req, out, statusMessage)
	c.endScope(ctx, &v)
	var eventID string
	if len(c.Observers) > 0 {
		eventID = c.EndObservers(ctx, e.Req, out)
	}
	c.recordServer(ctx, e, &v)

	span := e.Span
	attrs := e.Protocol.AppendSpanAttrs(e.SpanAttrs)
	attrs = append(attrs, attribute.String(AttrCorrelationID, e.Req.CorrelationID))
	if e.Rejected > 0 {
		attrs = append(attrs, attribute.Int(AttrCorrelationIDRejected, e.Rejected))
	}
	if v.errorType != "" {
		attrs = append(attrs, semconv.ErrorTypeKey.String(v.errorType))
	}
	switch {
	case v.panicked:
		v.panic.recordOnSpan(span)
	case v.spanError:
		span.SetStatus(codes.Error, v.spanDesc)
	}
	span.SetAttributes(attrs...)
	span.End()

	if v.panicked {
		var buf [4]slog.Attr
		c.logPanic(ctx, &v.panic, eventID, e.Protocol.AppendPanicFields(buf[:0]))
	}
	logger := c.Logger()
	if !logger.Enabled(ctx, v.level) {
		return
	}
	rate := 0.0
	if c.Sampling.Every > 1 {
		var keep bool
		if keep, rate = c.sampleAccess(e, &v); !keep {
			return
		}
	}
	la := e.Protocol.AppendAccessFields(e.LogAttrs)
	la = append(la, slog.Duration("event.duration", out.Duration))
	if v.errorType != "" {
		la = append(la, slog.String("error.type", v.errorType))
	}
	if e.Req.Protocol == "grpc" && out.Err != nil && !v.panicked {
		la = append(la, slog.String("error.message", textsafe.Sanitize(statusMessage, 4096)))
	}
	if e.Rejected > 0 {
		la = append(la, slog.Int(AttrCorrelationIDRejected, e.Rejected))
	}
	if eventID != "" {
		la = append(la, slog.String(AttrErrorID, textsafe.Sanitize(eventID, 64)))
	}
	if rate > 0 {
		la = appendSampleRate(la, rate)
	}
	rec := slog.NewRecord(time.Now(), v.level, AccessMessage, 0)
	rec.AddAttrs(la...)
	_ = logger.Handler().Handle(ctx, rec)
}

// verdict is what an outcome means for the span and the records.
type verdict struct {
	level     slog.Level
	errorType string // error.type; "" for a success
	panicked  bool
	panic     RecoveredPanic // when panicked
	spanError bool           // span status Error (a panic sets its own)
	spanDesc  string         // its description
}

// judge turns an outcome into level, error.type and span status, the same
// way for both protocols:
//
//   - a panic: Error; error.type the panic value's type; the span gets the
//     exception event and status Error "panic: <message>";
//   - gRPC: the level of WithGRPCCodeLevel; the codes the RPC conventions
//     count as a server error (Unknown, DeadlineExceeded, Unimplemented,
//     Internal, Unavailable, DataLoss) give error.type the code's name and
//     the span status Error with the status message;
//   - HTTP aborted with http.ErrAbortHandler: Warn at least (the response
//     was cut, whatever was written), error.type "http.ErrAbortHandler",
//     span status Error "handler aborted";
//   - HTTP: the level of WithStatusLevel; 5xx give error.type the status
//     code and the span status Error.
func (c *Config) judge(req *Request, out *Outcome, statusMessage string) verdict {
	protocol := req.Protocol
	var v verdict
	switch {
	case out.Panic != nil:
		v.panicked = true
		v.panic = NewRecoveredPanic(out.Panic, out.Stack, req)
		v.level = slog.LevelError
		v.errorType = v.panic.Type
	case protocol == "grpc":
		v.level = c.CodeLevel(out.GRPCCode)
		if grpcServerError(out.GRPCCode) {
			v.errorType = GRPCCodeName(out.GRPCCode)
			v.spanError, v.spanDesc = true, textsafe.Sanitize(statusMessage, MaxValueLen)
		}
	case out.Err == http.ErrAbortHandler:
		v.level = slog.LevelWarn
		if out.Status != 0 {
			v.level = max(v.level, c.StatusLevel(out.Status))
		}
		v.errorType = "http.ErrAbortHandler"
		v.spanError, v.spanDesc = true, "handler aborted"
	default:
		v.level = c.StatusLevel(out.Status)
		if out.Status >= 500 {
			v.errorType = strconv.Itoa(out.Status)
			v.spanError = true
		}
	}
	return v
}
