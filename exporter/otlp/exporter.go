package otlp

import (
	"context"
	"crypto/tls"
	"fmt"

	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/encoding"

	"github.com/glassbox-obs/glassbox/exporter/otlp/internal/oconf"
)

// NewSpanExporter returns the OTel SDK's OTLP span exporter for the
// configured protocol, wrapped so that the timeout (WithTimeout) bounds a
// whole export, retries included, and a collector that refuses connections
// is retried like one that answers Unavailable. Options win over the
// OTEL_EXPORTER_OTLP_* variables, which the exporter reads itself. It opens
// no connection until the first export. Use it with NewSpanProcessor.
func NewSpanExporter(ctx context.Context, opts ...Option) (sdktrace.SpanExporter, error) {
	c := newConfig("TRACES", opts)
	if err := c.Error("otlp"); err != nil {
		return nil, err
	}
	var (
		exp sdktrace.SpanExporter
		err error
	)
	if c.Protocol == oconf.ProtocolGRPC {
		exp, err = otlptracegrpc.New(ctx, oconf.ExporterOptions(c, traceGRPC())...)
	} else {
		var o []otlptracehttp.Option
		if o, err = oconf.HTTPExporterOptions(c, traceHTTP(), "/v1/traces"); err != nil {
			return nil, err
		}
		exp, err = otlptracehttp.New(ctx, o...)
	}
	if err != nil {
		return nil, fmt.Errorf("otlp: span exporter: %w", err)
	}
	return &spanExporter{next: exp, policy: oconf.NewPolicy(c), redactor: c.Redactor}, nil
}

// NewLogExporter returns the OTel SDK's OTLP log exporter for the
// configured protocol, wrapped as NewSpanExporter's is (timeout and
// retries). Options win over the OTEL_EXPORTER_OTLP_* variables, which the
// exporter reads itself. It opens no connection until the first export.
// Use it with NewSink.
func NewLogExporter(ctx context.Context, opts ...Option) (sdklog.Exporter, error) {
	c := newConfig("LOGS", opts)
	if err := c.Error("otlp"); err != nil {
		return nil, err
	}
	var (
		exp sdklog.Exporter
		err error
	)
	if c.Protocol == oconf.ProtocolGRPC {
		exp, err = otlploggrpc.New(ctx, oconf.ExporterOptions(c, logGRPC())...)
	} else {
		var o []otlploghttp.Option
		if o, err = oconf.HTTPExporterOptions(c, logHTTP(), "/v1/logs"); err != nil {
			return nil, err
		}
		exp, err = otlploghttp.New(ctx, o...)
	}
	if err != nil {
		return nil, fmt.Errorf("otlp: log exporter: %w", err)
	}
	return &logExporter{next: exp, policy: oconf.NewPolicy(c)}, nil
}

func traceGRPC() oconf.OptionSet[otlptracegrpc.Option] {
	return oconf.OptionSet[otlptracegrpc.Option]{
		EndpointURL: otlptracegrpc.WithEndpointURL, Headers: otlptracegrpc.WithHeaders, Insecure: otlptracegrpc.WithInsecure, Timeout: otlptracegrpc.WithTimeout,
		Compression: func(gzip bool) otlptracegrpc.Option {
			if gzip {
				return otlptracegrpc.WithCompressor("gzip")
			}
			// WithCompressor knows no name for "none" (it reports any other
			// name as invalid); the identity compressor, set after the
			// exporter's own call options, overrides a gzip from the
			// environment.
			return otlptracegrpc.WithDialOption(grpc.WithDefaultCallOptions(grpc.UseCompressor(encoding.Identity)))
		},
		TLS: func(t *tls.Config) otlptracegrpc.Option {
			return otlptracegrpc.WithTLSCredentials(credentials.NewTLS(t))
		},
		Retry: func(r oconf.Retry) otlptracegrpc.Option { return otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig(r)) },
	}
}

func traceHTTP() oconf.OptionSet[otlptracehttp.Option] {
	return oconf.OptionSet[otlptracehttp.Option]{
		EndpointURL: otlptracehttp.WithEndpointURL, Headers: otlptracehttp.WithHeaders, Insecure: otlptracehttp.WithInsecure, Timeout: otlptracehttp.WithTimeout,
		Compression: func(gzip bool) otlptracehttp.Option {
			if gzip {
				return otlptracehttp.WithCompression(otlptracehttp.GzipCompression)
			}
			return otlptracehttp.WithCompression(otlptracehttp.NoCompression)
		},
		TLS:   otlptracehttp.WithTLSClientConfig,
		Retry: func(r oconf.Retry) otlptracehttp.Option { return otlptracehttp.WithRetry(otlptracehttp.RetryConfig(r)) },
	}
}

func logGRPC() oconf.OptionSet[otlploggrpc.Option] {
	return oconf.OptionSet[otlploggrpc.Option]{
		EndpointURL: otlploggrpc.WithEndpointURL, Headers: otlploggrpc.WithHeaders, Insecure: otlploggrpc.WithInsecure, Timeout: otlploggrpc.WithTimeout,
		Compression: func(gzip bool) otlploggrpc.Option {
			if gzip {
				return otlploggrpc.WithCompressor("gzip")
			}
			return otlploggrpc.WithCompressor("none")
		},
		TLS:   func(t *tls.Config) otlploggrpc.Option { return otlploggrpc.WithTLSCredentials(credentials.NewTLS(t)) },
		Retry: func(r oconf.Retry) otlploggrpc.Option { return otlploggrpc.WithRetry(otlploggrpc.RetryConfig(r)) },
	}
}

func logHTTP() oconf.OptionSet[otlploghttp.Option] {
	return oconf.OptionSet[otlploghttp.Option]{
		EndpointURL: otlploghttp.WithEndpointURL, Headers: otlploghttp.WithHeaders, Insecure: otlploghttp.WithInsecure, Timeout: otlploghttp.WithTimeout,
		Compression: func(gzip bool) otlploghttp.Option {
			if gzip {
				return otlploghttp.WithCompression(otlploghttp.GzipCompression)
			}
			return otlploghttp.WithCompression(otlploghttp.NoCompression)
		},
		TLS:   otlploghttp.WithTLSClientConfig,
		Retry: func(r oconf.Retry) otlploghttp.Option { return otlploghttp.WithRetry(otlploghttp.RetryConfig(r)) },
	}
}
