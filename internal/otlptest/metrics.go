package otlptest

import (
	"context"

	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
)

// Metric is one received metric with the resource and scope it came with.
type Metric struct {
	Resource *resourcepb.Resource
	Scope    *commonpb.InstrumentationScope
	Metric   *metricspb.Metric
}

// Metrics returns the metrics accepted so far, in arrival order (a metric
// exported periodically appears once per export).
func (s *Server) Metrics() []Metric {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Metric(nil), s.metrics...)
}

func (s *Server) acceptMetrics(req *colmetricspb.ExportMetricsServiceRequest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rm := range req.GetResourceMetrics() {
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				s.metrics = append(s.metrics, Metric{Resource: rm.GetResource(), Scope: sm.GetScope(), Metric: m})
			}
		}
	}
	s.notifyLocked()
}

// countDataPoints counts the data points of a request, its items.
func countDataPoints(req *colmetricspb.ExportMetricsServiceRequest) int {
	n := 0
	for _, rm := range req.GetResourceMetrics() {
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				n += len(m.GetSum().GetDataPoints()) + len(m.GetGauge().GetDataPoints()) +
					len(m.GetHistogram().GetDataPoints()) + len(m.GetExponentialHistogram().GetDataPoints()) +
					len(m.GetSummary().GetDataPoints())
			}
		}
	}
	return n
}

type metricsService struct {
	colmetricspb.UnimplementedMetricsServiceServer
	s *Server
}

func (ms metricsService) Export(ctx context.Context, req *colmetricspb.ExportMetricsServiceRequest) (*colmetricspb.ExportMetricsServiceResponse, error) {
	if err := ms.s.grpcAdmit(ctx, Metrics, "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export", req, countDataPoints(req)); err != nil {
		return nil, err
	}
	ms.s.acceptMetrics(req)
	return &colmetricspb.ExportMetricsServiceResponse{}, nil
}
