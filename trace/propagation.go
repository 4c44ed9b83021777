package trace

import (
	"context"
	"net/textproto"

	"go.opentelemetry.io/otel/propagation"
)

// Default header names. HTTP header names are case-insensitive; gRPC
// metadata keys are lowercase, which carriers handle for us.
const (
	HeaderCorrelationID = "X-Correlation-ID"
	HeaderRequestID     = "X-Request-ID"
)

// DefaultHeaders returns the headers an inbound correlation ID is read from,
// in order of preference. It returns a new slice on every call.
func DefaultHeaders() []string { return []string{HeaderCorrelationID, HeaderRequestID} }

// Extraction is the result of looking for a correlation ID in a carrier.
type Extraction struct {
	// ID is the first valid value found, or "".
	ID string
	// Rejected counts the values present in the carrier that were not valid
	// correlation IDs. They are never returned and must never be logged.
	Rejected int
}

// ExtractCorrelationID looks through headers in order and returns the first
// valid value. Every value of a repeated header is considered when the
// carrier implements propagation.ValuesGetter (HTTP headers and gRPC
// metadata carriers do). Invalid values are counted, never returned.
func ExtractCorrelationID(carrier propagation.TextMapCarrier, headers []string) Extraction {
	var ex Extraction
	if carrier == nil {
		return ex
	}
	vg, multi := carrier.(propagation.ValuesGetter)
	for _, h := range headers {
		if multi {
			for _, v := range vg.Values(h) {
				if ValidCorrelationID(v) {
					ex.ID = v
					return ex
				}
				ex.Rejected++
			}
			continue
		}
		v := carrier.Get(h)
		if v == "" {
			continue
		}
		if ValidCorrelationID(v) {
			ex.ID = v
			return ex
		}
		ex.Rejected++
	}
	return ex
}

// CorrelationPropagator is a propagation.TextMapPropagator for correlation
// IDs. Inject writes the context's correlation ID under the first header;
// Extract reads the first valid value of the headers, in order. Combine it
// with the W3C propagators through Propagator or
// propagation.NewCompositeTextMapPropagator.
//
// The zero value uses DefaultHeaders. It is safe for concurrent use.
type CorrelationPropagator struct {
	headers []string
}

var _ propagation.TextMapPropagator = CorrelationPropagator{}

// NewCorrelationPropagator returns a propagator over the given header names.
// With none it uses DefaultHeaders. Names are canonicalised as HTTP headers.
func NewCorrelationPropagator(headers ...string) CorrelationPropagator {
	hs := make([]string, 0, len(headers))
	for _, h := range headers {
		if h != "" {
			hs = append(hs, textproto.CanonicalMIMEHeaderKey(h))
		}
	}
	return CorrelationPropagator{headers: hs}
}

func (p CorrelationPropagator) headerList() []string {
	if len(p.headers) == 0 {
		return DefaultHeaders()
	}
	return p.headers
}

// Inject sets the correlation ID of ctx, if any, on the carrier.
func (p CorrelationPropagator) Inject(ctx context.Context, carrier propagation.TextMapCarrier) {
	id, ok := CorrelationID(ctx)
	if !ok || carrier == nil {
		return
	}
	if len(p.headers) == 0 {
		carrier.Set(HeaderCorrelationID, id)
		return
	}
	carrier.Set(p.headers[0], id)
}

// Extract returns ctx with the first valid correlation ID found in the
// carrier. Invalid values are ignored. An ID already in ctx is replaced only
// by a valid one.
func (p CorrelationPropagator) Extract(ctx context.Context, carrier propagation.TextMapCarrier) context.Context {
	ex := ExtractCorrelationID(carrier, p.headerList())
	if ex.ID == "" {
		return ctx
	}
	return WithCorrelationID(ctx, ex.ID)
}

// Fields returns the header names this propagator reads and writes.
func (p CorrelationPropagator) Fields() []string {
	return append([]string(nil), p.headerList()...)
}

// Propagator returns the propagator glassbox installs by default: W3C
// Trace Context (glassbox's TraceContext), W3C baggage and the correlation
// ID headers.
func Propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(
		TraceContext{},
		propagation.Baggage{},
		CorrelationPropagator{},
	)
}
