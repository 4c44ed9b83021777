package otlp

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/url"
	"path"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/encoding"
)

// NewSpanExporter returns the OTel SDK's OTLP span exporter for the
// configured protocol, wrapped so that the timeout (WithTimeout) bounds a
// whole export, retries included, and a collector that refuses connections
// is retried like one that answers Unavailable. Options win over the
// OTEL_EXPORTER_OTLP_* variables, which the exporter reads itself. It opens
// no connection until the first export. Use it with NewSpanProcessor.
func NewSpanExporter(ctx context.Context, opts ...Option) (sdktrace.SpanExporter, error) {
	c := newConfig("TRACES", opts)
	if err := c.error(); err != nil {
		return nil, err
	}
	var (
		exp sdktrace.SpanExporter
		err error
	)
	if c.protocol == ProtocolGRPC {
		exp, err = otlptracegrpc.New(ctx, exporterOptions(c, traceGRPC())...)
	} else {
		var o []otlptracehttp.Option
		if o, err = httpExporterOptions(c, traceHTTP(), "/v1/traces"); err != nil {
			return nil, err
		}
		exp, err = otlptracehttp.New(ctx, o...)
	}
	if err != nil {
		return nil, fmt.Errorf("otlp: span exporter: %w", err)
	}
	return &spanExporter{next: exp, policy: newExportPolicy(c)}, nil
}

// NewLogExporter returns the OTel SDK's OTLP log exporter for the
// configured protocol, wrapped as NewSpanExporter's is (timeout and
// retries). Options win over the OTEL_EXPORTER_OTLP_* variables, which the
// exporter reads itself. It opens no connection until the first export.
// Use it with NewSink.
func NewLogExporter(ctx context.Context, opts ...Option) (sdklog.Exporter, error) {
	c := newConfig("LOGS", opts)
	if err := c.error(); err != nil {
		return nil, err
	}
	var (
		exp sdklog.Exporter
		err error
	)
	if c.protocol == ProtocolGRPC {
		exp, err = otlploggrpc.New(ctx, exporterOptions(c, logGRPC())...)
	} else {
		var o []otlploghttp.Option
		if o, err = httpExporterOptions(c, logHTTP(), "/v1/logs"); err != nil {
			return nil, err
		}
		exp, err = otlploghttp.New(ctx, o...)
	}
	if err != nil {
		return nil, fmt.Errorf("otlp: log exporter: %w", err)
	}
	return &logExporter{next: exp, policy: newExportPolicy(c)}, nil
}

// optionSet is how one of the SDK's four OTLP exporter packages spells
// the settings this package has: the same settings, four option types.
// The sets are built when an exporter is, never at package initialisation:
// some SDK option constructors report through the global error handler.
type optionSet[O any] struct {
	endpointURL func(string) O
	headers     func(map[string]string) O
	insecure    func() O
	timeout     func(time.Duration) O
	compression func(gzip bool) O
	tls         func(*tls.Config) O
	retry       func(RetryConfig) O
}

func traceGRPC() optionSet[otlptracegrpc.Option] {
	return optionSet[otlptracegrpc.Option]{
		otlptracegrpc.WithEndpointURL, otlptracegrpc.WithHeaders, otlptracegrpc.WithInsecure, otlptracegrpc.WithTimeout,
		func(gzip bool) otlptracegrpc.Option {
			if gzip {
				return otlptracegrpc.WithCompressor("gzip")
			}
			// WithCompressor knows no name for "none" (it reports any other
			// name as invalid); the identity compressor, set after the
			// exporter's own call options, overrides a gzip from the
			// environment.
			return otlptracegrpc.WithDialOption(grpc.WithDefaultCallOptions(grpc.UseCompressor(encoding.Identity)))
		},
		func(t *tls.Config) otlptracegrpc.Option {
			return otlptracegrpc.WithTLSCredentials(credentials.NewTLS(t))
		},
		func(r RetryConfig) otlptracegrpc.Option { return otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig(r)) },
	}
}

func traceHTTP() optionSet[otlptracehttp.Option] {
	return optionSet[otlptracehttp.Option]{
		otlptracehttp.WithEndpointURL, otlptracehttp.WithHeaders, otlptracehttp.WithInsecure, otlptracehttp.WithTimeout,
		func(gzip bool) otlptracehttp.Option {
			if gzip {
				return otlptracehttp.WithCompression(otlptracehttp.GzipCompression)
			}
			return otlptracehttp.WithCompression(otlptracehttp.NoCompression)
		},
		otlptracehttp.WithTLSClientConfig,
		func(r RetryConfig) otlptracehttp.Option { return otlptracehttp.WithRetry(otlptracehttp.RetryConfig(r)) },
	}
}

func logGRPC() optionSet[otlploggrpc.Option] {
	return optionSet[otlploggrpc.Option]{
		otlploggrpc.WithEndpointURL, otlploggrpc.WithHeaders, otlploggrpc.WithInsecure, otlploggrpc.WithTimeout,
		func(gzip bool) otlploggrpc.Option {
			if gzip {
				return otlploggrpc.WithCompressor("gzip")
			}
			return otlploggrpc.WithCompressor("none")
		},
		func(t *tls.Config) otlploggrpc.Option { return otlploggrpc.WithTLSCredentials(credentials.NewTLS(t)) },
		func(r RetryConfig) otlploggrpc.Option { return otlploggrpc.WithRetry(otlploggrpc.RetryConfig(r)) },
	}
}

func logHTTP() optionSet[otlploghttp.Option] {
	return optionSet[otlploghttp.Option]{
		otlploghttp.WithEndpointURL, otlploghttp.WithHeaders, otlploghttp.WithInsecure, otlploghttp.WithTimeout,
		func(gzip bool) otlploghttp.Option {
			if gzip {
				return otlploghttp.WithCompression(otlploghttp.GzipCompression)
			}
			return otlploghttp.WithCompression(otlploghttp.NoCompression)
		},
		otlploghttp.WithTLSClientConfig,
		func(r RetryConfig) otlploghttp.Option { return otlploghttp.WithRetry(otlploghttp.RetryConfig(r)) },
	}
}

// exporterOptions translates c into the options of set, with c.endpoint
// as the exporter's endpoint URL as it is (gRPC has no per-signal path).
func exporterOptions[O any](c config, set optionSet[O]) []O {
	var o []O
	if c.endpoint != "" {
		o = append(o, set.endpointURL(c.endpoint))
	}
	if c.headers != nil {
		o = append(o, set.headers(c.headers))
	}
	if c.insecure {
		o = append(o, set.insecure())
	}
	if c.timeout > 0 {
		o = append(o, set.timeout(c.timeout))
	}
	if c.compression != "" {
		o = append(o, set.compression(c.compression == "gzip"))
	}
	if c.tlsConfig != nil {
		o = append(o, set.tls(c.tlsConfig))
	}
	if c.retry != nil {
		o = append(o, set.retry(*c.retry))
	}
	return o
}

// httpExporterOptions is exporterOptions for an HTTP exporter: the
// endpoint is a base URL the signal's path is appended to.
func httpExporterOptions[O any](c config, set optionSet[O], signalPath string) ([]O, error) {
	if c.endpoint != "" {
		u, err := signalURL(c.endpoint, signalPath)
		if err != nil {
			return nil, err
		}
		c.endpoint = u
	}
	return exporterOptions(c, set), nil
}

// signalURL appends the signal's path to a base endpoint URL, the way the
// OTLP specification treats OTEL_EXPORTER_OTLP_ENDPOINT.
func signalURL(base, signalPath string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("otlp: endpoint %q is not an absolute URL (want e.g. http://localhost:4318)", base)
	}
	u.Path = path.Join("/", u.Path, signalPath)
	u.RawPath = ""
	return u.String(), nil
}
