package instrument

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/metric"
)

// HTTPClientMetrics records http.client.request.duration for
// middleware.Transport.
type HTTPClientMetrics struct {
	duration metric.Float64Histogram
	sets     attrCache[httpClientKey]
}

// NewHTTPClientMetrics makes the HTTP client instrument of c's
// MeterProvider.
func NewHTTPClientMetrics(c *Config) *HTTPClientMetrics {
	return &HTTPClientMetrics{duration: durationHistogram(meter(c.MeterProvider), MetricHTTPClientDuration, "Duration of HTTP client requests.")}
}

// HTTPClientCall is the outcome of one outgoing HTTP request, as the
// attributes of its measurement.
type HTTPClientCall struct {
	Method    string // known, or "_OTHER"
	Host      string // server.address, sanitised
	Port      int    // server.port; 0 when unknown
	Scheme    string // url.scheme
	Status    int    // 0 when no response came
	Version   string // network.protocol.version of the response; "" without one
	ErrorType string // "" on success
}

// Enabled reports whether a measurement in ctx would be recorded.
func (m *HTTPClientMetrics) Enabled(ctx context.Context) bool { return m.duration.Enabled(ctx) }

// Record records the duration d of call in ctx (the client span's, for
// the exemplar).
func (m *HTTPClientMetrics) Record(ctx context.Context, d time.Duration, call HTTPClientCall) {
	k := httpClientKey{
		method: call.Method, host: call.Host, port: call.Port, status: call.Status,
		errorType: call.ErrorType, scheme: call.Scheme, version: call.Version,
	}
	m.duration.Record(ctx, d.Seconds(), m.sets.get(k, httpClientSet).record...)
}

// RPCClientMetrics records rpc.client.call.duration for the grpcmw
// client interceptors.
type RPCClientMetrics struct {
	duration metric.Float64Histogram
	sets     attrCache[rpcKey]
}

// NewRPCClientMetrics makes the gRPC client instrument of c's
// MeterProvider.
func NewRPCClientMetrics(c *Config) *RPCClientMetrics {
	return &RPCClientMetrics{duration: durationHistogram(meter(c.MeterProvider), MetricRPCClientDuration, "Measures the duration of an outgoing Remote Procedure Call (RPC).")}
}

// RPCClientCall is the outcome of one outgoing gRPC call, as the
// attributes of its measurement.
type RPCClientCall struct {
	Service   string // "pkg.Service", sanitised
	Method    string // "Method", sanitised
	Code      uint32 // the gRPC status code
	ErrorType string // "" for OK
	Host      string // server.address, sanitised
	Port      int    // server.port; 0 when unknown
}

// Enabled reports whether a measurement in ctx would be recorded.
func (m *RPCClientMetrics) Enabled(ctx context.Context) bool { return m.duration.Enabled(ctx) }

// Record records the duration d of call in ctx (the client span's).
func (m *RPCClientMetrics) Record(ctx context.Context, d time.Duration, call RPCClientCall) {
	k := rpcKey{service: call.Service, method: call.Method, code: call.Code, errorType: call.ErrorType, host: call.Host, port: call.Port}
	m.duration.Record(ctx, d.Seconds(), m.sets.get(k, rpcClientSet).record...)
}
