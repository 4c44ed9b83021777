package trace

import (
	"context"

	"go.opentelemetry.io/otel/propagation"
	oteltrace "go.opentelemetry.io/otel/trace"
)

// Header names of W3C Trace Context.
const (
	traceparentHeader = "traceparent"
	tracestateHeader  = "tracestate"
)

// TraceContext is glassbox's propagator of W3C Trace Context (traceparent
// and tracestate), a drop-in for OTel's propagation.TraceContext that
// follows the current rules of the specification where OTel's does not:
//
//   - a carrier that implements propagation.ValuesGetter (HTTP headers, gRPC
//     metadata) has all of its tracestate header lines read as one list,
//     joined in order, empty lines skipped; and a traceparent header that
//     occurs more than once is invalid (a new trace starts);
//   - optional whitespace around the traceparent is ignored;
//   - tracestate keys follow the current grammar: 1 to 256 characters, a
//     lowercase letter or digit first, then lowercase letters, digits and
//     '_', '-', '*', '/', '@';
//   - a tracestate of more than 32 members, or with an invalid member, is
//     dropped whole, a key that repeats keeps its first member only, and an
//     invalid tracestate never invalidates a valid traceparent.
//
// Extract puts the caller's span context in the context as the remote
// parent, with its tracestate as an OTel trace.TraceState. Members that
// TraceState cannot hold (its key grammar is older: "tenant@vendor" keys
// with a vendor part of at most 14 characters, say) are kept beside it in
// the context, and Inject sends them on for the same trace. Inject writes
// a version-00 traceparent with the sampled and random flags.
//
// The zero value is ready to use and safe for concurrent use.
type TraceContext struct{}

var _ propagation.TextMapPropagator = TraceContext{}

// remoteStateKey is the context key of the tracestate received with the
// remote parent, when its TraceState could not hold all of it.
type remoteStateKey struct{}

// remoteState is a received tracestate and the trace it belongs to.
type remoteState struct {
	traceID oteltrace.TraceID
	st      tracestate
}

// Inject writes the traceparent and tracestate of the span context in ctx
// to carrier. It writes nothing when ctx has no valid span context.
func (TraceContext) Inject(ctx context.Context, carrier propagation.TextMapCarrier) {
	sc := oteltrace.SpanContextFromContext(ctx)
	if !sc.IsValid() || carrier == nil {
		return
	}
	ts := sc.TraceState().String()
	if rs, ok := ctx.Value(remoteStateKey{}).(*remoteState); ok && rs != nil && rs.traceID == sc.TraceID() {
		ts = rs.st.outgoing(sc.TraceState())
	}
	if ts != "" {
		carrier.Set(tracestateHeader, ts)
	}
	carrier.Set(traceparentHeader, formatTraceparent(sc))
}

// Extract returns ctx with the remote span context read from carrier, or
// ctx itself when the carrier has no valid traceparent.
func (TraceContext) Extract(ctx context.Context, carrier propagation.TextMapCarrier) context.Context {
	if carrier == nil {
		return ctx
	}
	var tp string
	vg, multi := carrier.(propagation.ValuesGetter)
	if multi {
		vals := vg.Values(traceparentHeader)
		if len(vals) != 1 {
			return ctx // none, or repeated: invalid
		}
		tp = vals[0]
	} else {
		tp = carrier.Get(traceparentHeader)
	}
	scc, ok := parseTraceparent(tp)
	if !ok {
		return ctx
	}
	var st tracestate
	if multi {
		st, ok = parseTracestate(vg.Values(tracestateHeader))
	} else {
		st, ok = parseTracestate([]string{carrier.Get(tracestateHeader)})
	}
	if ok {
		scc.TraceState = st.ts
	}
	ctx = oteltrace.ContextWithRemoteSpanContext(ctx, oteltrace.NewSpanContext(scc))
	switch {
	case ok && st.extra != nil:
		ctx = context.WithValue(ctx, remoteStateKey{}, &remoteState{traceID: scc.TraceID, st: st})
	case ctx.Value(remoteStateKey{}) != nil:
		// What an earlier extraction kept is not this parent's.
		ctx = context.WithValue(ctx, remoteStateKey{}, (*remoteState)(nil))
	}
	return ctx
}

// Fields returns the header names Inject writes: traceparent and
// tracestate.
func (TraceContext) Fields() []string { return []string{traceparentHeader, tracestateHeader} }
