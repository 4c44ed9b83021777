package otlp

import (
	"context"
	"fmt"
	"net/url"
	"path"

	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc/credentials"
)

// NewSpanExporter returns the OTel SDK's OTLP span exporter for the
// configured protocol. Options win over the OTEL_EXPORTER_OTLP_* variables,
// which the exporter reads itself. It opens no connection until the first
// export. Use it with NewSpanProcessor.
func NewSpanExporter(ctx context.Context, opts ...Option) (sdktrace.SpanExporter, error) {
	c := newConfig("TRACES", opts)
	if c.err != nil {
		return nil, fmt.Errorf("otlp: %w", c.err)
	}
	var (
		exp sdktrace.SpanExporter
		err error
	)
	switch c.protocol {
	case ProtocolGRPC:
		var o []otlptracegrpc.Option
		if c.endpoint != "" {
			o = append(o, otlptracegrpc.WithEndpointURL(c.endpoint))
		}
		if c.headers != nil {
			o = append(o, otlptracegrpc.WithHeaders(c.headers))
		}
		if c.insecure {
			o = append(o, otlptracegrpc.WithInsecure())
		}
		if c.timeout > 0 {
			o = append(o, otlptracegrpc.WithTimeout(c.timeout))
		}
		switch c.compression {
		case "gzip":
			o = append(o, otlptracegrpc.WithCompressor("gzip"))
		case "none":
			o = append(o, otlptracegrpc.WithCompressor(""))
		}
		if c.tlsConfig != nil {
			o = append(o, otlptracegrpc.WithTLSCredentials(credentials.NewTLS(c.tlsConfig)))
		}
		if c.retry != nil {
			o = append(o, otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig(*c.retry)))
		}
		exp, err = otlptracegrpc.New(ctx, o...)
	default:
		var o []otlptracehttp.Option
		if c.endpoint != "" {
			u, perr := signalURL(c.endpoint, "/v1/traces")
			if perr != nil {
				return nil, perr
			}
			o = append(o, otlptracehttp.WithEndpointURL(u))
		}
		if c.headers != nil {
			o = append(o, otlptracehttp.WithHeaders(c.headers))
		}
		if c.insecure {
			o = append(o, otlptracehttp.WithInsecure())
		}
		if c.timeout > 0 {
			o = append(o, otlptracehttp.WithTimeout(c.timeout))
		}
		switch c.compression {
		case "gzip":
			o = append(o, otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
		case "none":
			o = append(o, otlptracehttp.WithCompression(otlptracehttp.NoCompression))
		}
		if c.tlsConfig != nil {
			o = append(o, otlptracehttp.WithTLSClientConfig(c.tlsConfig))
		}
		if c.retry != nil {
			o = append(o, otlptracehttp.WithRetry(otlptracehttp.RetryConfig(*c.retry)))
		}
		exp, err = otlptracehttp.New(ctx, o...)
	}
	if err != nil {
		return nil, fmt.Errorf("otlp: span exporter: %w", err)
	}
	return exp, nil
}

// NewLogExporter returns the OTel SDK's OTLP log exporter for the
// configured protocol. Options win over the OTEL_EXPORTER_OTLP_* variables,
// which the exporter reads itself. It opens no connection until the first
// export. Use it with NewSink.
func NewLogExporter(ctx context.Context, opts ...Option) (sdklog.Exporter, error) {
	c := newConfig("LOGS", opts)
	if c.err != nil {
		return nil, fmt.Errorf("otlp: %w", c.err)
	}
	var (
		exp sdklog.Exporter
		err error
	)
	switch c.protocol {
	case ProtocolGRPC:
		var o []otlploggrpc.Option
		if c.endpoint != "" {
			o = append(o, otlploggrpc.WithEndpointURL(c.endpoint))
		}
		if c.headers != nil {
			o = append(o, otlploggrpc.WithHeaders(c.headers))
		}
		if c.insecure {
			o = append(o, otlploggrpc.WithInsecure())
		}
		if c.timeout > 0 {
			o = append(o, otlploggrpc.WithTimeout(c.timeout))
		}
		switch c.compression {
		case "gzip":
			o = append(o, otlploggrpc.WithCompressor("gzip"))
		case "none":
			o = append(o, otlploggrpc.WithCompressor(""))
		}
		if c.tlsConfig != nil {
			o = append(o, otlploggrpc.WithTLSCredentials(credentials.NewTLS(c.tlsConfig)))
		}
		if c.retry != nil {
			o = append(o, otlploggrpc.WithRetry(otlploggrpc.RetryConfig(*c.retry)))
		}
		exp, err = otlploggrpc.New(ctx, o...)
	default:
		var o []otlploghttp.Option
		if c.endpoint != "" {
			u, perr := signalURL(c.endpoint, "/v1/logs")
			if perr != nil {
				return nil, perr
			}
			o = append(o, otlploghttp.WithEndpointURL(u))
		}
		if c.headers != nil {
			o = append(o, otlploghttp.WithHeaders(c.headers))
		}
		if c.insecure {
			o = append(o, otlploghttp.WithInsecure())
		}
		if c.timeout > 0 {
			o = append(o, otlploghttp.WithTimeout(c.timeout))
		}
		switch c.compression {
		case "gzip":
			o = append(o, otlploghttp.WithCompression(otlploghttp.GzipCompression))
		case "none":
			o = append(o, otlploghttp.WithCompression(otlploghttp.NoCompression))
		}
		if c.tlsConfig != nil {
			o = append(o, otlploghttp.WithTLSClientConfig(c.tlsConfig))
		}
		if c.retry != nil {
			o = append(o, otlploghttp.WithRetry(otlploghttp.RetryConfig(*c.retry)))
		}
		exp, err = otlploghttp.New(ctx, o...)
	}
	if err != nil {
		return nil, fmt.Errorf("otlp: log exporter: %w", err)
	}
	return exp, nil
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
