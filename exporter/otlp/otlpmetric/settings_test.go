package otlpmetric_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/glassbox-obs/glassbox/exporter/otlp"
	"github.com/glassbox-obs/glassbox/exporter/otlp/otlpmetric"
)

// otlp.MetricSettings, which "glassbox doctor" checks an environment
// with, resolves the protocol as NewExporter does and reports exactly the
// error NewExporter returns.
func TestMetricSettingsAreNewExporter(t *testing.T) {
	for _, tc := range []struct {
		env      map[string]string
		protocol otlp.Protocol
	}{
		{map[string]string{}, otlp.ProtocolHTTPProtobuf},
		{map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, otlp.ProtocolGRPC},
		{map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "http/protobuf"}, otlp.ProtocolHTTPProtobuf},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"}, otlp.ProtocolHTTPProtobuf},
		{map[string]string{"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "http/json"}, ""},
		{map[string]string{"OTEL_EXPORTER_OTLP_METRICS_TIMEOUT": "0"}, ""},
	} {
		t.Run(fmt.Sprint(tc.env), func(t *testing.T) {
			getenv := otlp.WithGetenv(func(k string) string { return tc.env[k] })
			s, _, serr := otlp.MetricSettings(getenv)
			exp, eerr := otlpmetric.NewExporter(context.Background(), getenv)
			if exp != nil {
				_ = exp.Shutdown(context.Background())
			}
			if (serr == nil) != (eerr == nil) || (serr != nil && strings.TrimPrefix(serr.Error(), "otlp: ") != strings.TrimPrefix(eerr.Error(), "otlpmetric: ")) {
				t.Errorf("MetricSettings: %v; NewExporter: %v", serr, eerr)
			}
			if tc.protocol != "" && s.Protocol != tc.protocol {
				t.Errorf("protocol %q, want %q", s.Protocol, tc.protocol)
			}
			if tc.protocol == "" && serr == nil {
				t.Errorf("no error, want one naming the variable")
			}
		})
	}
}
