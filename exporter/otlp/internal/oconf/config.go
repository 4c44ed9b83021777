package oconf

import (
	"crypto/tls"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/glassbox-obs/glassbox/log"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
)

// The protocols the exporters speak, as OTEL_EXPORTER_OTLP_PROTOCOL names
// them.
const (
	ProtocolGRPC         = "grpc"
	ProtocolHTTPProtobuf = "http/protobuf"
	// DefaultProtocol is the one the OpenTelemetry specification
	// recommends.
	DefaultProtocol = ProtocolHTTPProtobuf
)

// Defaults of what neither an option nor the environment sets.
const (
	DefaultMaxQueueSize = 2048
	DefaultTimeout      = 10 * time.Second
)

// ParseProtocol parses a value of OTEL_EXPORTER_OTLP_PROTOCOL; "" gives
// DefaultProtocol. http/json is refused: the Go exporters do not speak it.
func ParseProtocol(s string) (string, error) {
	switch p := strings.ToLower(strings.TrimSpace(s)); p {
	case "":
		return DefaultProtocol, nil
	case ProtocolGRPC, ProtocolHTTPProtobuf:
		return p, nil
	default:
		return "", fmt.Errorf("unsupported OTLP protocol %q (want grpc or http/protobuf)", s)
	}
}

// Retry is the retry policy; otlp.RetryConfig documents it.
type Retry struct {
	Enabled         bool
	InitialInterval time.Duration
	MaxInterval     time.Duration
	MaxElapsedTime  time.Duration
}

// DefaultRetry is the OTel exporters' own default policy.
func DefaultRetry() Retry {
	return Retry{Enabled: true, InitialInterval: 5 * time.Second, MaxInterval: 30 * time.Second, MaxElapsedTime: time.Minute}
}

// Option is an option of package otlp, which exports it as otlp.Option.
type Option interface{ Apply(*Config) }

// OptionFunc is an Option made of a function.
type OptionFunc func(*Config)

// Apply calls f(c).
func (f OptionFunc) Apply(c *Config) { f(c) }

// Config is one exporter's configuration: the options, then the
// environment (see env.go), then the defaults.
type Config struct {
	Protocol     string
	Endpoint     string
	Headers      map[string]string
	Insecure     bool
	Timeout      time.Duration
	Compression  string // "gzip", "none" or "" (the exporter's variables decide)
	TLSConfig    *tls.Config
	Retry        *Retry
	QueueSize    int
	BSP          BSP // spans only
	Resource     *sdkresource.Resource
	ErrorHandler otel.ErrorHandler
	// MeterProvider receives the exporter's self-metrics (nil: none).
	MeterProvider metric.MeterProvider
	// Redactor is applied to span attributes (otlp.WithRedactor); nil
	// until New, then log.NewRedactor() when no option set one.
	Redactor *log.Redactor
	// Getenv reads the variables of env.go (otlp.WithGetenv); os.Getenv
	// by default.
	Getenv func(string) string
	// Err is a bad option or variable: constructors fail with it.
	Err error
	// Warnings are ignored variables, for the error handler.
	Warnings []error
	// OnRetry, when set (by tests), is called before each retry of a
	// connection failure.
	OnRetry func(error)
}

// BSP holds the batch span processor settings passed to the SDK
// explicitly.
type BSP struct {
	MaxExportBatchSize int
	ScheduleDelay      time.Duration
	ExportTimeout      time.Duration
}

// New applies opts, then fills what they leave unset from the environment
// and the defaults. signal is "TRACES", "LOGS" or "METRICS".
func New(signal string, opts []Option) Config {
	c := Config{Getenv: os.Getenv}
	for _, o := range opts {
		if o != nil {
			o.Apply(&c)
		}
	}
	c.loadEnv(signal)
	if c.Retry == nil {
		r := DefaultRetry()
		c.Retry = &r
	}
	if c.ErrorHandler == nil {
		c.ErrorHandler = otel.GetErrorHandler()
	}
	if c.Redactor == nil {
		c.Redactor = log.NewRedactor()
	}
	return c
}

// Error is the error the constructors of package prefix ("otlp",
// "otlpmetric") return for c, or nil.
func (c *Config) Error(prefix string) error {
	if c.Err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", prefix, c.Err)
}

// Fail records the first configuration error.
func (c *Config) Fail(err error) {
	if c.Err == nil {
		c.Err = err
	}
}
