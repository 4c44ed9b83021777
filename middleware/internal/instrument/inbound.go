package instrument

import (
	"context"
	"strings"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/trace"
)

// Inbound is what Config.Inbound decided about one inbound request or
// call.
type Inbound struct {
	// CorrelationID is the inbound correlation ID adopted: the first valid
	// value of the correlation headers, sent by a trusted peer. It is ""
	// when there was none or the peer was not trusted.
	CorrelationID string
	// Rejected counts the invalid correlation ID values the request
	// carried, whether or not the peer was trusted. The values themselves
	// are never recorded.
	Rejected int
	// Trusted reports whether the peer was trusted: the context Inbound
	// returned then carries the caller's trace context (the parent of the
	// server span), its baggage (when within the W3C limits) and its
	// correlation ID.
	Trusted bool
	// Link is the caller's span context when the peer was not trusted and
	// sent a valid one: the server span starts a new trace linked to it.
	// It is the zero SpanContext otherwise.
	Link oteltrace.SpanContext
}

// AppendSpanOptions appends the span start options the server span needs
// under this decision: none when the peer was trusted, else a new root and
// the link to the caller's trace, if any.
func (in *Inbound) AppendSpanOptions(opts []oteltrace.SpanStartOption) []oteltrace.SpanStartOption {
	if in.Trusted {
		return opts
	}
	opts = append(opts, oteltrace.WithNewRoot())
	if in.Link.IsValid() {
		opts = append(opts, oteltrace.WithLinks(oteltrace.Link{SpanContext: in.Link}))
	}
	return opts
}

// Chosen reports whether the server chose the correlation ID id the
// request runs with: the caller sent no valid one, or was not trusted, or
// it is not the one in force. The gRPC interceptors send the ID back only
// then: a caller whose ID was adopted already has it.
func (in *Inbound) Chosen(id string) bool { return in.CorrelationID != id }

// correlationHider is implemented by carriers whose lookups cost
// allocations (gRPC incoming metadata): once Inbound has read the
// correlation headers itself, it tells the carrier to report them absent,
// so that the propagator does not look them up again.
type correlationHider interface {
	HideCorrelationKeys(keys []string)
}

// Inbound decides, in one place for HTTP and gRPC, what a server takes from
// an inbound request whose headers or metadata carrier holds, sent by the
// peer at address peer ("host:port" or "host" of the connection, never a
// header):
//
//   - the correlation headers are read in order and invalid values counted
//     (Inbound.Rejected), trusted peer or not;
//   - from a trusted peer (see PeerTrusted) the propagator's trace context
//     and baggage are extracted into ctx, baggage beyond the W3C limits is
//     dropped whole (see BaggageWithinLimits), and the first valid
//     correlation ID is put in ctx;
//   - from an untrusted peer ctx is returned unchanged: its correlation ID
//     and baggage are ignored and its trace context is only reported as
//     Inbound.Link, for the server span to link to from a new root (see
//     Inbound.AppendSpanOptions).
//
// Header names are looked up in their canonical HTTP form
// ("X-Correlation-Id"): gRPC metadata carriers must match keys without
// regard to case. A carrier that also implements
// propagation.ValuesGetter has every value of a repeated header
// considered. One that has a method HideCorrelationKeys([]string) is told
// the correlation headers after they were read, and should report them
// absent from then on.
// Whatever the propagator extracts, only the configured correlation
// headers decide the correlation ID.
func (c *Config) Inbound(ctx context.Context, carrier propagation.TextMapCarrier, peer string) (context.Context, Inbound) {
	ex := trace.ExtractCorrelationID(carrier, c.CorrHeaders)
	in := Inbound{Rejected: ex.Rejected, Trusted: c.PeerTrusted(peer)}
	if h, ok := carrier.(correlationHider); ok {
		h.HideCorrelationKeys(c.CorrHeaders)
	}
	// Baggage beyond the limits is hidden from the propagator, not only
	// dropped after it: OpenTelemetry's baggage propagator reports what it
	// cannot parse to the global error handler, which prints on stderr.
	bagOK := baggageWithinLimits(carrier)
	if !bagOK {
		carrier = withoutBaggage{carrier}
	}
	if !in.Trusted {
		// Public endpoint, untrusted peer: the caller's trace becomes a
		// link, its baggage and correlation ID are dropped.
		in.Link = oteltrace.SpanContextFromContext(c.Propagator.Extract(context.Background(), carrier))
		if !in.Link.IsValid() {
			in.Link = oteltrace.SpanContext{}
		}
		return ctx, in
	}
	pre := ctx
	ctx = c.Propagator.Extract(ctx, carrier)
	if !bagOK {
		ctx = baggage.ContextWithoutBaggage(ctx)
	}
	switch {
	case ex.ID != "":
		in.CorrelationID = ex.ID
		if cur, ok := trace.CorrelationID(ctx); !ok || cur != ex.ID {
			ctx = trace.WithCorrelationID(ctx, ex.ID)
		}
	case c.IsolateCorr:
		// A propagator may have found one under a header the
		// configuration does not list: only the configured ones count.
		if cur, ok := trace.CorrelationID(ctx); ok {
			if before, had := trace.CorrelationID(pre); !had {
				ctx = trace.WithoutCorrelationID(ctx)
			} else if before != cur {
				ctx = trace.WithCorrelationID(ctx, before)
			}
		}
	}
	return ctx, in
}

// Inject writes the trace context and baggage of ctx into carrier through
// the propagator, for an outgoing request or call. The correlation ID is
// not the propagator's to send: the caller writes it under the first
// correlation header (CorrHeaders[0], or CorrMD[0] for gRPC).
func (c *Config) Inject(ctx context.Context, carrier propagation.TextMapCarrier) {
	if c.IsolateCorr {
		ctx = trace.WithoutCorrelationID(ctx)
	}
	c.Propagator.Inject(ctx, carrier)
}

// baggageWithinLimits applies BaggageWithinLimits to the carrier's
// baggage header, if it has one.
func baggageWithinLimits(carrier propagation.TextMapCarrier) bool {
	if vg, ok := carrier.(propagation.ValuesGetter); ok {
		vals := vg.Values("baggage")
		return len(vals) == 0 || BaggageWithinLimits(vals)
	}
	v := carrier.Get("baggage")
	return v == "" || BaggageWithinLimits([]string{v})
}

// withoutBaggage is a carrier whose baggage header reads as absent.
type withoutBaggage struct{ propagation.TextMapCarrier }

func isBaggage(key string) bool { return strings.EqualFold(key, "baggage") }

func (c withoutBaggage) Get(key string) string {
	if isBaggage(key) {
		return ""
	}
	return c.TextMapCarrier.Get(key)
}

// Values implements propagation.ValuesGetter.
func (c withoutBaggage) Values(key string) []string {
	if isBaggage(key) {
		return nil
	}
	if vg, ok := c.TextMapCarrier.(propagation.ValuesGetter); ok {
		return vg.Values(key)
	}
	if v := c.TextMapCarrier.Get(key); v != "" {
		return []string{v}
	}
	return nil
}

func (c withoutBaggage) Keys() []string {
	keys := c.TextMapCarrier.Keys()
	out := keys[:0:0]
	for _, k := range keys {
		if !isBaggage(k) {
			out = append(out, k)
		}
	}
	return out
}
