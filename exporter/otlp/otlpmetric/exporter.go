package otlpmetric

import (
	"context"
	"crypto/tls"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/grpc/credentials"

	"github.com/glassbox-obs/glassbox/exporter/otlp"
	"github.com/glassbox-obs/glassbox/exporter/otlp/internal/oconf"
	"github.com/glassbox-obs/glassbox/internal/metricsdk"
)

// Defaults of the periodic reader, as the OpenTelemetry specification
// sets them.
const (
	DefaultInterval = time.Minute
	DefaultTimeout  = 30 * time.Second
)

// Exporter is the OTLP metrics exporter of glassbox.Start. Pass it to
// glassbox.WithMetricsExporter; its name in OTEL_METRICS_EXPORTER is
// "otlp".
type Exporter struct {
	opts []otlp.Option
}

var _ metricsdk.Exporter = (*Exporter)(nil)

// New returns the exporter, configured by opts (package otlp's options:
// endpoint, headers, protocol, TLS, compression, timeout, retry) on top of
// glassbox.WithOTLP's and the environment: OTEL_EXPORTER_OTLP_METRICS_*,
// then OTEL_EXPORTER_OTLP_*. OTEL_METRIC_EXPORT_INTERVAL (default 60000)
// and OTEL_METRIC_EXPORT_TIMEOUT (default 30000), in milliseconds, set the
// periodic reader. Nothing is built, and nothing connects, until Start.
func New(opts ...otlp.Option) *Exporter {
	return &Exporter{opts: append([]otlp.Option(nil), opts...)}
}

// MetricsExporterName returns "otlp".
func (e *Exporter) MetricsExporterName() string { return "otlp" }

// NewMetricReader returns a periodic reader over the OTLP exporter; Start
// calls it.
func (e *Exporter) NewMetricReader(ctx context.Context, s *metricsdk.Settings) (sdkmetric.Reader, error) {
	opts := append(append([]otlp.Option(nil), s.OTLP...), e.opts...)
	if s.ErrorHandler != nil {
		opts = append([]otlp.Option{otlp.WithErrorHandler(s.ErrorHandler)}, opts...)
	}
	if s.Getenv != nil {
		// The exporter's own variables come from Start's environment too.
		opts = append([]otlp.Option{otlp.WithGetenv(s.Getenv)}, opts...)
	}
	exp, err := NewExporter(ctx, opts...)
	if err != nil {
		return nil, err
	}
	getenv := s.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	errh := s.ErrorHandler
	if errh == nil {
		errh = otel.GetErrorHandler()
	}
	interval := millisEnv(getenv, "OTEL_METRIC_EXPORT_INTERVAL", DefaultInterval, errh)
	timeout := millisEnv(getenv, "OTEL_METRIC_EXPORT_TIMEOUT", DefaultTimeout, errh)
	return sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(interval), sdkmetric.WithTimeout(timeout)), nil
}

// NewMeterProvider builds Start's MeterProvider over readers.
func (e *Exporter) NewMeterProvider(s *metricsdk.Settings, readers []sdkmetric.Reader) metricsdk.Provider {
	return metricsdk.NewMeterProvider(s, readers)
}

// millisEnv reads a positive number of milliseconds: def when unset, def
// and a report to h when it is anything else.
func millisEnv(getenv func(string) string, name string, def time.Duration, h otel.ErrorHandler) time.Duration {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return def
	}
	ms, err := strconv.Atoi(v)
	if err != nil || ms <= 0 {
		h.Handle(fmt.Errorf("otlpmetric: %s: %q is not a positive number of milliseconds, ignored", name, v))
		return def
	}
	return time.Duration(ms) * time.Millisecond
}

// NewExporter returns the OTel SDK's OTLP metric exporter for the
// configured protocol, under the export policy of package otlp: the
// timeout bounds a whole export, retries included, and a collector that
// refuses connections is retried. A failed export is reported to the
// error handler (WithErrorHandler) rather than returned, so the periodic
// reader never reports it elsewhere. It opens no connection until the
// first export. Use it with sdkmetric.NewPeriodicReader.
func NewExporter(ctx context.Context, opts ...otlp.Option) (sdkmetric.Exporter, error) {
	c := oconf.New("METRICS", opts)
	if c.Err != nil {
		return nil, fmt.Errorf("otlpmetric: %w", c.Err)
	}
	for _, w := range c.Warnings {
		c.ErrorHandler.Handle(w)
	}
	var (
		exp sdkmetric.Exporter
		err error
	)
	if c.Protocol == oconf.ProtocolGRPC {
		exp, err = otlpmetricgrpc.New(ctx, oconf.ExporterOptions(c, grpcOptions())...)
	} else {
		var o []otlpmetrichttp.Option
		if o, err = oconf.HTTPExporterOptions(c, httpOptions(), "/v1/metrics"); err != nil {
			return nil, err
		}
		exp, err = otlpmetrichttp.New(ctx, o...)
	}
	if err != nil {
		return nil, fmt.Errorf("otlpmetric: %w", err)
	}
	return &exporter{next: exp, policy: oconf.NewPolicy(c), errh: c.ErrorHandler}, nil
}

func grpcOptions() oconf.OptionSet[otlpmetricgrpc.Option] {
	return oconf.OptionSet[otlpmetricgrpc.Option]{
		EndpointURL: otlpmetricgrpc.WithEndpointURL, Headers: otlpmetricgrpc.WithHeaders,
		Insecure: otlpmetricgrpc.WithInsecure, Timeout: otlpmetricgrpc.WithTimeout,
		Compression: func(gzip bool) otlpmetricgrpc.Option {
			if gzip {
				return otlpmetricgrpc.WithCompressor("gzip")
			}
			return otlpmetricgrpc.WithCompressor("none")
		},
		TLS: func(t *tls.Config) otlpmetricgrpc.Option {
			return otlpmetricgrpc.WithTLSCredentials(credentials.NewTLS(t))
		},
		Retry: func(r oconf.Retry) otlpmetricgrpc.Option {
			return otlpmetricgrpc.WithRetry(otlpmetricgrpc.RetryConfig(r))
		},
	}
}

func httpOptions() oconf.OptionSet[otlpmetrichttp.Option] {
	return oconf.OptionSet[otlpmetrichttp.Option]{
		EndpointURL: otlpmetrichttp.WithEndpointURL, Headers: otlpmetrichttp.WithHeaders,
		Insecure: otlpmetrichttp.WithInsecure, Timeout: otlpmetrichttp.WithTimeout,
		Compression: func(gzip bool) otlpmetrichttp.Option {
			if gzip {
				return otlpmetrichttp.WithCompression(otlpmetrichttp.GzipCompression)
			}
			return otlpmetrichttp.WithCompression(otlpmetrichttp.NoCompression)
		},
		TLS: otlpmetrichttp.WithTLSClientConfig,
		Retry: func(r oconf.Retry) otlpmetrichttp.Option {
			return otlpmetrichttp.WithRetry(otlpmetrichttp.RetryConfig(r))
		},
	}
}

// exporter is the SDK's exporter under the export policy.
type exporter struct {
	next   sdkmetric.Exporter
	policy oconf.Policy
	errh   otel.ErrorHandler
}

func (e *exporter) Temporality(k sdkmetric.InstrumentKind) metricdata.Temporality {
	return e.next.Temporality(k)
}

func (e *exporter) Aggregation(k sdkmetric.InstrumentKind) sdkmetric.Aggregation {
	return e.next.Aggregation(k)
}

func (e *exporter) Export(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	err := e.policy.Run(ctx, func(ctx context.Context) error { return e.next.Export(ctx, rm) })
	if err != nil {
		e.errh.Handle(fmt.Errorf("otlpmetric: export: %w", err))
	}
	return nil
}

func (e *exporter) ForceFlush(ctx context.Context) error { return e.next.ForceFlush(ctx) }
func (e *exporter) Shutdown(ctx context.Context) error   { return e.next.Shutdown(ctx) }
