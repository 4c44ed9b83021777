package metricsdk

import (
	"context"
	"math/rand/v2"
	"sort"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/exemplar"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/trace"
)

// AttrCorrelationID is the exemplar attribute of the correlation ID; the
// Prometheus exposition names it correlation_id.
const AttrCorrelationID = trace.CorrelationAttribute

// MaxExemplarCorrelationID is the longest correlation ID an exemplar
// carries. OpenMetrics allows an exemplar 128 characters of label names
// and values; trace_id and span_id take 63 of them, correlation_id 14,
// which leaves 51 (a UUID has 36). A longer ID is left out: the trace ID
// finds the request as well.
const MaxExemplarCorrelationID = 128 - (len("trace_id") + 32 + len("span_id") + 16) - len("correlation_id")

// correlationSelector gives explicit-bucket histograms a
// correlationReservoir, anything else the SDK's default reservoir.
func correlationSelector(agg sdkmetric.Aggregation) exemplar.ReservoirProvider {
	if h, ok := agg.(sdkmetric.AggregationExplicitBucketHistogram); ok && len(h.Boundaries) > 0 {
		bounds := append([]float64(nil), h.Boundaries...)
		sort.Float64s(bounds)
		return func(attribute.Set) exemplar.Reservoir {
			return &correlationReservoir{bounds: bounds, buckets: make([]sample, len(bounds)+1)}
		}
	}
	return sdkmetric.DefaultExemplarReservoirProviderSelector(agg)
}

// correlationReservoir is the SDK's aligned-histogram reservoir with the
// correlation ID: one exemplar per bucket, chosen uniformly among the
// bucket's measurements since the last collection (reservoir sampling;
// without new ones the last exemplar stays),
// and the request's correlation ID kept with it when it differs from the
// trace ID and fits the OpenMetrics limit. An Offer costs a context
// lookup and no allocation; the exemplar's attributes are made at
// collection. The SDK serialises the calls (the type does not claim to be
// safe for concurrent use).
type correlationReservoir struct {
	bounds  []float64
	buckets []sample
}

type sample struct {
	valid bool   // a measurement is held
	seen  uint64 // measurements offered since the last collection
	value exemplar.Value
	at    time.Time
	sc    oteltrace.SpanContext
	corr  string
	attrs []attribute.KeyValue
}

func (r *correlationReservoir) Offer(ctx context.Context, t time.Time, v exemplar.Value, attrs []attribute.KeyValue) {
	var f float64
	switch v.Type() {
	case exemplar.Int64ValueType:
		f = float64(v.Int64())
	case exemplar.Float64ValueType:
		f = v.Float64()
	default:
		return
	}
	b := &r.buckets[sort.SearchFloat64s(r.bounds, f)]
	b.seen++
	if b.seen > 1 && rand.Uint64N(b.seen) != 0 {
		return
	}
	b.valid, b.value, b.at, b.attrs = true, v, t, attrs
	b.sc = oteltrace.SpanContextFromContext(ctx)
	b.corr, _ = trace.CorrelationID(ctx)
}

func (r *correlationReservoir) Collect(dest *[]exemplar.Exemplar) {
	out := (*dest)[:0]
	for i := range r.buckets {
		b := &r.buckets[i]
		b.seen = 0 // the next measurement replaces this one
		if !b.valid {
			continue
		}
		e := exemplar.Exemplar{FilteredAttributes: b.attrs, Time: b.at, Value: b.value}
		if b.sc.HasTraceID() {
			id := b.sc.TraceID()
			e.TraceID = id[:]
		}
		if b.sc.HasSpanID() {
			id := b.sc.SpanID()
			e.SpanID = id[:]
		}
		if keepCorrelationID(b.corr, b.sc) {
			e.FilteredAttributes = append(append([]attribute.KeyValue(nil), b.attrs...), attribute.String(AttrCorrelationID, b.corr))
		}
		out = append(out, e)
	}
	*dest = out
}

// keepCorrelationID reports whether an exemplar carries the correlation
// ID: one that is not the trace ID (the default when a request brings
// none) and fits the OpenMetrics limit.
func keepCorrelationID(id string, sc oteltrace.SpanContext) bool {
	if id == "" || len(id) > MaxExemplarCorrelationID {
		return false
	}
	return !sc.HasTraceID() || id != sc.TraceID().String()
}
