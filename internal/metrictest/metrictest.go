package metrictest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// Reader is a MeterProvider and the manual reader behind it.
type Reader struct {
	Provider *sdkmetric.MeterProvider
	reader   *sdkmetric.ManualReader
}

// New returns a Reader whose provider is shut down at the end of the test.
func New(t testing.TB, opts ...sdkmetric.Option) *Reader {
	t.Helper()
	r := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(append(opts, sdkmetric.WithReader(r))...)
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return &Reader{Provider: mp, reader: r}
}

// Point is one data point of a metric.
type Point struct {
	Scope, Name, Unit string
	// Attrs are the point's attributes, each value as Value.Emit writes it.
	Attrs map[string]string
	// Value is the value of a sum or gauge.
	Value float64
	// Count, Sum and Bounds describe a histogram; BucketCounts has one
	// more element than Bounds.
	Count        uint64
	Sum          float64
	Bounds       []float64
	BucketCounts []uint64
	// Exemplars are a histogram's exemplars.
	Exemplars []Exemplar
	// Monotonic is set for a counter (a monotonic sum).
	Monotonic bool
	// Kind is "histogram", "sum" or "gauge".
	Kind string
}

// Exemplar is one exemplar of a histogram point.
type Exemplar struct {
	Value           float64
	TraceID, SpanID string // hex, "" when absent
	Filtered        map[string]string
}

// Collect returns every data point collected now.
func (r *Reader) Collect(t testing.TB) []Point {
	t.Helper()
	return CollectFrom(t, r.reader)
}

// Collector is a reader that collects on demand (sdkmetric.ManualReader).
type Collector interface {
	Collect(ctx context.Context, rm *metricdata.ResourceMetrics) error
}

// CollectFrom returns every data point r collects now.
func CollectFrom(t testing.TB, r Collector) []Point {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatalf("collect: %v", err)
	}
	return Flatten(rm)
}

// Flatten turns collected metrics into points.
func Flatten(rm metricdata.ResourceMetrics) []Point {
	var out []Point
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			base := Point{Scope: sm.Scope.Name, Name: m.Name, Unit: m.Unit}
			out = appendData(out, base, m.Data)
		}
	}
	return out
}

func appendData(out []Point, base Point, data metricdata.Aggregation) []Point {
	switch d := data.(type) {
	case metricdata.Histogram[float64]:
		for _, dp := range d.DataPoints {
			p := base
			p.Kind, p.Attrs = "histogram", attrs(dp.Attributes)
			p.Count, p.Sum, p.Bounds, p.BucketCounts = dp.Count, dp.Sum, dp.Bounds, dp.BucketCounts
			for _, e := range dp.Exemplars {
				p.Exemplars = append(p.Exemplars, Exemplar{
					Value: e.Value, TraceID: fmt.Sprintf("%x", e.TraceID), SpanID: fmt.Sprintf("%x", e.SpanID),
					Filtered: attrs(attribute.NewSet(e.FilteredAttributes...)),
				})
			}
			out = append(out, p)
		}
	case metricdata.Sum[int64]:
		for _, dp := range d.DataPoints {
			p := base
			p.Kind, p.Attrs, p.Value, p.Monotonic = "sum", attrs(dp.Attributes), float64(dp.Value), d.IsMonotonic
			out = append(out, p)
		}
	case metricdata.Sum[float64]:
		for _, dp := range d.DataPoints {
			p := base
			p.Kind, p.Attrs, p.Value, p.Monotonic = "sum", attrs(dp.Attributes), dp.Value, d.IsMonotonic
			out = append(out, p)
		}
	case metricdata.Gauge[int64]:
		for _, dp := range d.DataPoints {
			p := base
			p.Kind, p.Attrs, p.Value = "gauge", attrs(dp.Attributes), float64(dp.Value)
			out = append(out, p)
		}
	}
	return out
}

func attrs(s attribute.Set) map[string]string {
	m := make(map[string]string, s.Len())
	for _, kv := range s.ToSlice() {
		m[string(kv.Key)] = kv.Value.Emit()
	}
	return m
}

// Named returns the points of the metric name.
func Named(points []Point, name string) []Point {
	var out []Point
	for _, p := range points {
		if p.Name == name {
			out = append(out, p)
		}
	}
	return out
}

// Find returns the point of name whose attributes include want (every
// key with its value; "" means the key is absent), failing the test when
// there is not exactly one.
func Find(t testing.TB, points []Point, name string, want map[string]string) Point {
	t.Helper()
	var found []Point
	for _, p := range Named(points, name) {
		if Match(p, want) {
			found = append(found, p)
		}
	}
	if len(found) != 1 {
		t.Fatalf("got %d points of %s with %v, want 1; have:\n%s", len(found), name, want, Dump(Named(points, name)))
	}
	return found[0]
}

// Match reports whether p has every attribute of want ("" meaning absent).
func Match(p Point, want map[string]string) bool {
	for k, v := range want {
		got, ok := p.Attrs[k]
		if v == "" && ok || v != "" && got != v {
			return false
		}
	}
	return true
}

// Dump writes points one a line, for failure messages.
func Dump(points []Point) string {
	var lines []string
	for _, p := range points {
		keys := make([]string, 0, len(p.Attrs))
		for k := range p.Attrs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var kv []string
		for _, k := range keys {
			kv = append(kv, k+"="+p.Attrs[k])
		}
		lines = append(lines, fmt.Sprintf("  %s{%s} count=%d value=%g", p.Name, strings.Join(kv, ","), p.Count, p.Value))
	}
	return strings.Join(lines, "\n")
}

// ExporterFigures returns the glassbox.exporter.* values of one exporter
// (attribute glassbox.exporter), by instrument name without the prefix;
// dropped records as "dropped.<reason>".
func ExporterFigures(points []Point, exporter string) map[string]int64 {
	out := map[string]int64{}
	for _, p := range points {
		name, ok := strings.CutPrefix(p.Name, "glassbox.exporter.")
		if !ok || p.Attrs["glassbox.exporter"] != exporter {
			continue
		}
		if name == "dropped" {
			name += "." + p.Attrs["glassbox.reason"]
		}
		out[name] = int64(p.Value)
	}
	return out
}

// EqualFigures fails the test unless got holds exactly want.
func EqualFigures(t testing.TB, got, want map[string]int64) {
	t.Helper()
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s: got %d (present %v), want %d", k, g, ok, v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s = %d: not expected", k, v)
		}
	}
}
