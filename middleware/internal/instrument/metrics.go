package instrument

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
)

// The instruments of the OpenTelemetry semantic conventions the
// middleware and the interceptors record (HTTP: stable; RPC: v1.43, the
// release candidate the OTel Go SDK generates).
const (
	MetricHTTPServerDuration = "http.server.request.duration"
	MetricHTTPServerActive   = "http.server.active_requests"
	MetricHTTPClientDuration = "http.client.request.duration"
	MetricRPCServerDuration  = "rpc.server.call.duration"
	MetricRPCClientDuration  = "rpc.client.call.duration"
)

// DurationBuckets returns the bucket boundaries, in seconds, the semantic
// conventions advise for the duration histograms; a new slice.
func DurationBuckets() []float64 {
	return []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}
}

// meter returns the meter of the middleware's instruments.
func meter(mp metric.MeterProvider) metric.Meter {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	return mp.Meter(ScopeName)
}

// durationHistogram makes a duration histogram of the conventions. An
// instrument the provider refuses is reported through otel.Handle; the
// API then returns a no-op one, so recording is always safe.
func durationHistogram(m metric.Meter, name, desc string) metric.Float64Histogram {
	h, err := m.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc),
		metric.WithExplicitBucketBoundaries(DurationBuckets()...))
	if err != nil {
		otel.Handle(fmt.Errorf("glassbox/middleware: instrument %s: %w", name, err))
	}
	return h
}

// ServerMetrics are the instruments of the HTTP middleware and the gRPC
// server interceptors, with their attribute sets cached per outcome.
type ServerMetrics struct {
	httpDuration metric.Float64Histogram
	httpActive   metric.Int64UpDownCounter
	rpcDuration  metric.Float64Histogram
	httpSets     attrCache[httpServerKey]
	activeSets   attrCache[httpActiveKey]
	rpcSets      attrCache[rpcKey]
}

func newServerMetrics(mp metric.MeterProvider) *ServerMetrics {
	m := meter(mp)
	active, err := m.Int64UpDownCounter(MetricHTTPServerActive, metric.WithUnit("{request}"),
		metric.WithDescription("Number of active HTTP server requests."))
	if err != nil {
		otel.Handle(fmt.Errorf("glassbox/middleware: instrument %s: %w", MetricHTTPServerActive, err))
	}
	return &ServerMetrics{
		httpDuration: durationHistogram(m, MetricHTTPServerDuration, "Duration of HTTP server requests."),
		httpActive:   active,
		rpcDuration:  durationHistogram(m, MetricRPCServerDuration, "Measures the duration of an incoming Remote Procedure Call (RPC)."),
	}
}

// recordServer records the duration of a finished request or call, with
// the error.type Finish decided (v), in ctx: the request's, whose span
// gives the measurement its exemplar. Its attribute set is built once per
// distinct outcome and then reused, so a request allocates nothing here.
func (c *Config) recordServer(ctx context.Context, e *End, v *verdict) {
	m := c.metrics
	if e.Req.Protocol == "grpc" {
		if !m.rpcDuration.Enabled(ctx) {
			return
		}
		k := rpcKey{method: e.Req.Method, code: e.Out.GRPCCode, errorType: v.errorType}
		m.rpcDuration.Record(ctx, e.Out.Duration.Seconds(), m.rpcSets.get(k, rpcServerSet).record...)
		return
	}
	if !m.httpDuration.Enabled(ctx) || e.Req.HTTP == nil {
		return
	}
	r := e.Req.HTTP
	k := httpServerKey{
		method: e.Req.Method, route: e.Req.Route, status: e.Out.Status, errorType: v.errorType,
		scheme: URLScheme(r), version: ProtocolVersion(r),
	}
	m.httpDuration.Record(ctx, e.Out.Duration.Seconds(), m.httpSets.get(k, httpServerSet).record...)
}

// Active counts an HTTP request as active (http.server.active_requests)
// and returns what ActiveDone needs to count it out; nil when the
// instrument is off. method is the request's method as the conventions
// want it (known, or "_OTHER"). The counter is given no request context:
// an up-down counter's exemplars are never exported, and without a span
// the SDK does not even time one.
func (c *Config) Active(method, scheme string) *Active {
	m := c.metrics
	ctx := context.Background()
	if !m.httpActive.Enabled(ctx) {
		return nil
	}
	a := m.activeSets.get(httpActiveKey{method: method, scheme: scheme}, httpActiveSet)
	m.httpActive.Add(ctx, 1, a.add...)
	return a
}

// ActiveDone counts out a request Active counted in; a nil a is ignored.
func (c *Config) ActiveDone(a *Active) {
	if a != nil {
		c.metrics.httpActive.Add(context.Background(), -1, a.add...)
	}
}

// Active is the cached attribute set of an active HTTP request.
type Active = attrEntry
