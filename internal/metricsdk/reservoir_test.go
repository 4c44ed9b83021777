package metricsdk_test

import (
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/internal/metricsdk"
	"github.com/glassbox-obs/glassbox/internal/metrictest"
	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/trace"
)

var traceID = oteltrace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}

// sampled is a request context: a sampled span and a correlation ID.
func sampled(corr string) context.Context {
	sc := oteltrace.NewSpanContext(oteltrace.SpanContextConfig{TraceID: traceID, SpanID: oteltrace.SpanID{1, 2, 3, 4, 5, 6, 7, 8}, TraceFlags: oteltrace.FlagsSampled})
	return trace.WithCorrelationID(oteltrace.ContextWithSpanContext(context.Background(), sc), corr)
}

// TestExemplarsCarryTheCorrelationID: the middleware's histograms keep
// the correlation ID with each exemplar when it is not the trace ID and
// fits the 128 characters OpenMetrics allows an exemplar's labels.
func TestExemplarsCarryTheCorrelationID(t *testing.T) {
	fits := strings.Repeat("c", metricsdk.MaxExemplarCorrelationID)
	cases := []struct {
		name, corr, want string
	}{
		{"an inbound ID", "order-42", "order-42"},
		{"the longest that fits", fits, fits},
		{"one character too long", fits + "c", ""},
		{"the trace ID itself", traceID.String(), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := sdkmetric.NewManualReader()
			mp := metricsdk.NewMeterProvider(&metricsdk.Settings{}, []sdkmetric.Reader{r})
			defer mp.Shutdown(context.Background())
			h, _ := mp.Meter(middleware.ScopeName).Float64Histogram("http.server.request.duration",
				metric.WithExplicitBucketBoundaries(0.1, 1))
			h.Record(sampled(c.corr), 0.5)
			p := metrictest.Find(t, metrictest.CollectFrom(t, r), "http.server.request.duration", nil)
			if len(p.Exemplars) != 1 {
				t.Fatalf("got %d exemplars, want 1", len(p.Exemplars))
			}
			e := p.Exemplars[0]
			if e.TraceID != traceID.String() || e.SpanID != "0102030405060708" {
				t.Errorf("got trace %s span %s, want the request's", e.TraceID, e.SpanID)
			}
			if got := e.Filtered["correlation.id"]; got != c.want {
				t.Errorf("got correlation.id %q, want %q", got, c.want)
			}
		})
	}
}

// TestExemplarOnePerBucketKeptUntilReplaced: each bucket keeps one
// exemplar; without new measurements it stays for the next collection.
func TestExemplarOnePerBucketKeptUntilReplaced(t *testing.T) {
	r := sdkmetric.NewManualReader()
	mp := metricsdk.NewMeterProvider(&metricsdk.Settings{}, []sdkmetric.Reader{r})
	defer mp.Shutdown(context.Background())
	h, _ := mp.Meter(middleware.ScopeName).Float64Histogram("d", metric.WithExplicitBucketBoundaries(0.1, 1))
	for _, v := range []float64{0.05, 0.06, 0.5, 5} {
		h.Record(sampled("c"), v)
	}
	h.Record(context.Background(), 0.07) // no sampled span: no exemplar offered
	for range 2 {
		p := metrictest.Find(t, metrictest.CollectFrom(t, r), "d", nil)
		if len(p.Exemplars) != 3 {
			t.Fatalf("got %d exemplars, want one per bucket (3)", len(p.Exemplars))
		}
	}
}
