package otlp

import (
	"crypto/tls"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"

	"github.com/glassbox-obs/glassbox/exporter/otlp/internal/oconf"
	"github.com/glassbox-obs/glassbox/log"
)

// Protocol is an OTLP transport, as named by OTEL_EXPORTER_OTLP_PROTOCOL.
type Protocol string

// The protocols the exporters speak.
const (
	ProtocolGRPC         Protocol = "grpc"
	ProtocolHTTPProtobuf Protocol = "http/protobuf"
)

// DefaultProtocol is the protocol used when none is configured, as the
// OpenTelemetry specification recommends.
const DefaultProtocol = ProtocolHTTPProtobuf

// ParseProtocol parses a value of OTEL_EXPORTER_OTLP_PROTOCOL. The empty
// string gives DefaultProtocol. http/json is refused: the Go exporters do
// not speak it.
func ParseProtocol(s string) (Protocol, error) {
	p, err := oconf.ParseProtocol(s)
	return Protocol(p), err
}

// DefaultMaxQueueSize is the number of spans or log records a processor
// buffers when neither an option nor the environment says otherwise.
const DefaultMaxQueueSize = oconf.DefaultMaxQueueSize

// DefaultTimeout bounds one export, retries included, when neither an
// option nor the environment says otherwise.
const DefaultTimeout = oconf.DefaultTimeout

// RetryConfig is the retry policy for failures the OTLP specification calls
// retryable: the collector cannot be reached (connection refused, over
// gRPC and HTTP alike), gRPC Unavailable, ResourceExhausted with
// RetryInfo, ...; HTTP 429, 502, 503, 504. The server's RetryInfo or
// Retry-After is honoured; otherwise the delay grows exponentially with
// jitter from InitialInterval to MaxInterval, until MaxElapsedTime has
// passed or the export's timeout (WithTimeout) ends it, whichever comes
// first.
type RetryConfig struct {
	// Enabled turns retrying on.
	Enabled bool
	// InitialInterval is the delay before the first retry.
	InitialInterval time.Duration
	// MaxInterval caps the delay between retries.
	MaxInterval time.Duration
	// MaxElapsedTime is how long an export keeps retrying; the export's
	// timeout may end it earlier.
	MaxElapsedTime time.Duration
}

// Option configures the constructors of this package (and of package
// otlpmetric).
type Option = oconf.Option

type optionFunc = oconf.OptionFunc

type config = oconf.Config

// newConfig applies opts, then fills what they leave unset from the
// environment and the defaults. signal is "TRACES" or "LOGS".
func newConfig(signal string, opts []Option) config { return oconf.New(signal, opts) }

// WithGetenv reads the variables this package resolves itself through
// getenv instead of os.Getenv, wherever it is in the option list
// (glassbox.Start passes its own; a nil getenv ignores the environment):
// OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_EXPORTER_OTLP_TIMEOUT, their per-signal
// forms, OTEL_BSP_MAX_QUEUE_SIZE, OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
// OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_EXPORT_TIMEOUT and
// OTEL_BLRP_MAX_QUEUE_SIZE (package otlpmetric's too). The OTel SDK's
// exporters and log processor read the others (endpoint, headers,
// compression, TLS, the other OTEL_BLRP_* variables) from the process
// environment themselves; the options that set them (WithEndpointURL,
// WithHeaders, ...) win over it. Default: os.Getenv.
func WithGetenv(getenv func(string) string) Option {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	return optionFunc(func(c *config) { c.Getenv = getenv })
}

// WithProtocol selects the transport. Default: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL
// or OTEL_EXPORTER_OTLP_LOGS_PROTOCOL, then OTEL_EXPORTER_OTLP_PROTOCOL
// (another value than grpc or http/protobuf makes the constructors fail,
// naming the variable), then http/protobuf.
func WithProtocol(p Protocol) Option {
	return optionFunc(func(c *config) {
		pp, err := oconf.ParseProtocol(string(p))
		if err != nil {
			c.Fail(err)
			return
		}
		c.Protocol = pp
	})
}

// WithEndpointURL sets the collector's base URL, as OTEL_EXPORTER_OTLP_ENDPOINT
// does: over HTTP the signal's path (/v1/traces, /v1/logs) is appended to
// it; over gRPC its host and port are dialled, and an http:// scheme means
// no TLS. Default: the exporter reads OTEL_EXPORTER_OTLP_ENDPOINT and the
// per-signal OTEL_EXPORTER_OTLP_{TRACES,LOGS}_ENDPOINT (used as is), then
// localhost:4318 (HTTP) or localhost:4317 (gRPC).
func WithEndpointURL(u string) Option {
	return optionFunc(func(c *config) { c.Endpoint = u })
}

// WithHeaders sets headers (gRPC metadata) sent with every export, such as
// an API key. Default: OTEL_EXPORTER_OTLP_HEADERS and the per-signal
// variables, read by the exporter.
func WithHeaders(h map[string]string) Option {
	return optionFunc(func(c *config) { c.Headers = h })
}

// WithInsecure turns TLS off. Default: OTEL_EXPORTER_OTLP_INSECURE, or an
// http:// endpoint; otherwise TLS.
func WithInsecure() Option {
	return optionFunc(func(c *config) { c.Insecure = true })
}

// WithTimeout bounds one whole export: every attempt and the waits between
// retries (see RetryConfig) end by it, and then the batch counts as failed.
// Default: OTEL_EXPORTER_OTLP_TRACES_TIMEOUT or OTEL_EXPORTER_OTLP_LOGS_TIMEOUT,
// then OTEL_EXPORTER_OTLP_TIMEOUT (milliseconds; anything but a positive
// integer is an error), then 10s.
func WithTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.Timeout = d })
}

// WithCompression sets the body compression, "gzip" or "none". Default:
// OTEL_EXPORTER_OTLP_COMPRESSION and the per-signal variables, then none.
func WithCompression(name string) Option {
	return optionFunc(func(c *config) {
		switch n := strings.ToLower(name); n {
		case "gzip", "none":
			c.Compression = n
		default:
			c.Fail(fmt.Errorf("unsupported OTLP compression %q (want gzip or none)", name))
		}
	})
}

// WithTLSClientConfig sets the TLS configuration (trusted roots, client
// certificate). Default: OTEL_EXPORTER_OTLP_CERTIFICATE, _CLIENT_CERTIFICATE
// and _CLIENT_KEY and the per-signal variables, then the system roots.
func WithTLSClientConfig(tc *tls.Config) Option {
	return optionFunc(func(c *config) { c.TLSConfig = tc })
}

// WithRetry sets the retry policy; RetryConfig{} turns retrying off.
// Default: the OTel exporters' own policy (retrying enabled, 5s initial and
// 30s maximum interval, for up to a minute), within the export's timeout
// (WithTimeout). No environment variable sets it.
func WithRetry(rc RetryConfig) Option {
	return optionFunc(func(c *config) { c.Retry = (*oconf.Retry)(&rc) })
}

// WithMaxQueueSize bounds how many spans (NewSpanProcessor) or log records
// (NewSink) wait for export, including those being exported; beyond it new
// ones are dropped and counted. Default: OTEL_BSP_MAX_QUEUE_SIZE or
// OTEL_BLRP_MAX_QUEUE_SIZE (a value that is not a positive integer is
// reported to the error handler and ignored), then 2048.
func WithMaxQueueSize(n int) Option {
	return optionFunc(func(c *config) { c.QueueSize = n })
}

// WithResource sets the resource of exported log records (NewSink). Spans
// carry their TracerProvider's resource. Default: resource.Default().
func WithResource(r *sdkresource.Resource) Option {
	return optionFunc(func(c *config) { c.Resource = r })
}

// WithErrorHandler receives export failures (after retries) of processors
// and sinks. Default: the OTel global error handler.
func WithErrorHandler(h otel.ErrorHandler) Option {
	return optionFunc(func(c *config) { c.ErrorHandler = h })
}

// WithRedactor sets the redaction list applied to spans: the value of a
// span, span event or link attribute whose key it matches is sent as
// log.Redacted, as the Elasticsearch and file exporters store it in span
// documents. Log records arrive redacted by the log handler. Default:
// log.NewRedactor() (the default key list), also when r is nil;
// glassbox.Start passes its own (WithRedactKeys and GLASSBOX_REDACT_KEYS).
func WithRedactor(r *log.Redactor) Option { return optionFunc(func(c *config) { c.Redactor = r }) }

// WithMeterProvider publishes the Stats of a SpanProcessor or Sink as
// OpenTelemetry metrics on mp, the glassbox.exporter.* instruments with
// glassbox.exporter="otlp_spans" or "otlp_logs": produced, delivered
// (exported), dropped (by glassbox.reason: queue_full, export_failed,
// shutdown), and the current in_flight. Each collection reads Stats;
// after Shutdown they report the final figures. glassbox.Start passes its
// MeterProvider when a metrics exporter is configured. Default: none.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) { c.MeterProvider = mp })
}
