package instrument

import (
	"context"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/propagation"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/internal/debugtoken"
	"github.com/glassbox-obs/glassbox/internal/ecs"
	"github.com/glassbox-obs/glassbox/log"
)

// Scoped is what the request-scoped features (break-glass debugging, the
// flight recorder) need of a protocol's request. The per-request states
// of the HTTP middleware and the gRPC server interceptors implement it.
type Scoped interface {
	// MatchRoute reports whether the request is one of route, the route
	// scope of a debug token: an HTTP ServeMux pattern, or a full gRPC
	// method.
	MatchRoute(route string) bool
	// AppendAuditFields appends the fields that locate the request in the
	// audit record of a debug token: method, path or RPC, client address.
	AppendAuditFields(dst []slog.Attr) []slog.Attr
}

// InboundDebug decides whether a request is debugged (break-glass), once
// Inbound has read its trace context and before its server span starts:
// a valid token in the X-Glassbox-Debug header (x-glassbox-debug
// metadata), whoever sent it, whose route scope s matches; or else, from
// a trusted peer, a valid grant in the caller's tracestate, bound to the
// caller's trace. The grant goes into ctx, where the sampler (forced
// sampling, and the grant passed on in the tracestate of the request's
// spans) and BeginScope find it. Tokens and grants that are not valid are
// counted by reason and otherwise ignored; their values are never
// recorded. Without WithBreakGlass it does nothing.
func (c *Config) InboundDebug(ctx context.Context, carrier propagation.TextMapCarrier, trusted bool, s Scoped) (context.Context, *debugtoken.Grant) {
	if c.BreakGlass == nil {
		return ctx, nil
	}
	return c.inboundDebug(ctx, carrier, trusted, s)
}

func (c *Config) inboundDebug(ctx context.Context, carrier propagation.TextMapCarrier, trusted bool, s Scoped) (context.Context, *debugtoken.Grant) {
	v := c.BreakGlass
	now := time.Now()
	if tok, n := headerValue(carrier, debugtoken.Header); n > 0 {
		claims, r := debugtoken.Claims{}, debugtoken.Malformed
		if n == 1 {
			claims, r = v.Verify(tok, now)
		} else {
			v.Count(r) // repeated: ambiguous, so malformed
		}
		if r == debugtoken.Accepted {
			if claims.Route != "" && !s.MatchRoute(claims.Route) {
				v.Count(debugtoken.WrongScope)
			} else {
				v.Count(debugtoken.Accepted)
				g := claims.Grant()
				return debugtoken.WithGrant(ctx, g), g
			}
		}
	}
	if !trusted {
		return ctx, nil
	}
	sc := oteltrace.SpanContextFromContext(ctx)
	if val := sc.TraceState().Get(debugtoken.StateKey); val != "" && sc.IsRemote() {
		if g, r := v.VerifyGrant(val, sc.TraceID(), now); r == debugtoken.Accepted {
			return debugtoken.WithGrant(ctx, g), g
		}
	}
	return ctx, nil
}

// headerValue returns the first value of a header and how many it has.
func headerValue(carrier propagation.TextMapCarrier, key string) (string, int) {
	if vg, ok := carrier.(propagation.ValuesGetter); ok {
		vals := vg.Values(key)
		if len(vals) == 0 {
			return "", 0
		}
		return vals[0], len(vals)
	}
	v := carrier.Get(key)
	if v == "" {
		return "", 0
	}
	return v, 1
}

// BeginScope opens the request's Flight (WithFlightRecorder) once its
// correlation ID and span are in ctx, and, for a request InboundDebug
// granted debugging, sets the Flight's level to DEBUG and writes the
// audit record. It returns the context the handler runs with.
func (c *Config) BeginScope(ctx context.Context, g *debugtoken.Grant, s Scoped) context.Context {
	if c.Flight == nil && g == nil {
		return ctx
	}
	return c.beginScope(ctx, g, s)
}

func (c *Config) beginScope(ctx context.Context, g *debugtoken.Grant, s Scoped) context.Context {
	var fl *log.Flight
	if c.Flight != nil {
		ctx, fl = c.Flight.Begin(ctx)
	}
	if g != nil {
		fl.SetLevel(slog.LevelDebug)
		c.audit(ctx, g, s)
	}
	return ctx
}

// AuditMessage is the message of the audit record of break-glass
// debugging.
const AuditMessage = "break-glass debugging on"

// audit writes the record of debugging granted to a request, at WARN, to
// every sink whatever the level: who (key ID) turned debugging on for
// what (scope, route, client) and until when, under the request's
// correlation ID.
func (c *Config) audit(ctx context.Context, g *debugtoken.Grant, s Scoped) {
	var buf [16]slog.Attr
	action, origin := "debug-token-accepted", "token"
	if g.Propagated {
		action, origin = "debug-grant-accepted", "caller"
	}
	attrs := append(buf[:0],
		slog.String(ecs.EventKind, "event"),
		slog.String(ecs.EventCategory, "iam"),
		slog.String(ecs.EventType, "admin"),
		slog.String(ecs.EventAction, action),
		slog.String(ecs.EventOutcome, "success"),
		slog.String(ecs.GlassboxDebugKeyID, g.KeyID),
		slog.Time(ecs.GlassboxDebugExpires, g.Expiry.UTC()),
		slog.String(ecs.GlassboxDebugOrigin, origin),
	)
	if g.Route != "" {
		attrs = append(attrs, slog.String(ecs.GlassboxDebugRoute, g.Route))
	}
	if g.Service != "" {
		attrs = append(attrs, slog.String(ecs.GlassboxDebugService, g.Service))
	}
	attrs = s.AppendAuditFields(attrs)
	rec := slog.NewRecord(time.Now(), slog.LevelWarn, AuditMessage, 0)
	rec.AddAttrs(attrs...)
	// Not subject to the level: an audit trail with holes is none.
	_ = c.Logger().Handler().Handle(ctx, rec)
}

// endScope ends the request's Flight first thing in Finish: its records
// are written when the request failed, before the observers (so they
// become the Sentry event's breadcrumbs) and before the records of the
// failure, or discarded.
func (c *Config) endScope(ctx context.Context, v *verdict) {
	if c.Flight == nil {
		return
	}
	log.FlightFrom(ctx).End(v.failed())
}

// failed reports whether the outcome is a failure for the flight
// recorder: a panic, an abort, a span status Error (HTTP 5xx, the gRPC
// codes the RPC conventions count as server errors) or an access record
// at ERROR (WithStatusLevel, WithGRPCCodeLevel).
func (v *verdict) failed() bool {
	return v.panicked || v.spanError || v.level >= slog.LevelError
}
