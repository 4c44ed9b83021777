package glassbox

import (
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/middleware"
)

// Option configures Start.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// config holds everything Start needs; defaults and the environment are
// applied in newConfig, then code options on top.
type config struct {
	service        log.Service
	level          slog.Leveler
	format         string // "json" or "text"
	writer         io.Writer
	noWriter       bool
	sinks          []log.Sink
	spanProcessors []sdktrace.SpanProcessor
	observers      []middleware.Observer
	redactKeys     []string
	noSetDefault   bool
	errorHandler   otel.ErrorHandler
	getenv         func(string) string

	// Per-component settings live in the component's own file.
	es     esConfig
	otlp   otlpConfig
	sentry sentryConfig
	file   fileConfig
}

// WithServiceName sets service.name. Default: OTEL_SERVICE_NAME, then the
// service.name of OTEL_RESOURCE_ATTRIBUTES, then the executable's name.
func WithServiceName(name string) Option {
	return optionFunc(func(c *config) { c.service.Name = name })
}

// WithServiceVersion sets service.version. Default: service.version of
// OTEL_RESOURCE_ATTRIBUTES.
func WithServiceVersion(v string) Option {
	return optionFunc(func(c *config) { c.service.Version = v })
}

// WithEnvironment sets service.environment. Default: deployment.environment.name
// (or deployment.environment) of OTEL_RESOURCE_ATTRIBUTES, then SENTRY_ENVIRONMENT.
func WithEnvironment(env string) Option {
	return optionFunc(func(c *config) { c.service.Environment = env })
}

// WithLogLevel sets the minimum level logged; pass a *slog.LevelVar to change
// it at run time. Default: GLASSBOX_LOG_LEVEL (debug, info, warn, error, or
// a number), then info.
func WithLogLevel(l slog.Leveler) Option {
	return optionFunc(func(c *config) { c.level = l })
}

// WithLogFormat sets the console format: "json" (ECS JSON, the default) or
// "text" (human-readable, for local terminals). Default: GLASSBOX_LOG_FORMAT.
// Only the console writer is affected; exporters always get ECS JSON.
func WithLogFormat(format string) Option {
	return optionFunc(func(c *config) { c.format = format })
}

// WithLogWriter sets where console logs go. Default: os.Stdout. A nil writer
// turns console logging off.
func WithLogWriter(w io.Writer) Option {
	return optionFunc(func(c *config) {
		c.writer = w
		c.noWriter = w == nil
	})
}

// WithSink adds a destination for every encoded log record, next to the
// console writer and the configured exporters.
func WithSink(s log.Sink) Option {
	return optionFunc(func(c *config) {
		if s != nil {
			c.sinks = append(c.sinks, s)
		}
	})
}

// WithSpanProcessor adds a span processor to the TracerProvider, next to the
// ones of the configured exporters.
func WithSpanProcessor(p sdktrace.SpanProcessor) Option {
	return optionFunc(func(c *config) {
		if p != nil {
			c.spanProcessors = append(c.spanProcessors, p)
		}
	})
}

// WithObserver adds a request observer that the middleware built by the
// Telemetry will call.
func WithObserver(o middleware.Observer) Option {
	return optionFunc(func(c *config) {
		if o != nil {
			c.observers = append(c.observers, o)
		}
	})
}

// WithRedactKeys adds attribute, header and query keys whose values are
// replaced by "[REDACTED]" everywhere glassbox writes them, on top of the
// default list (see log.DefaultRedactKeys).
func WithRedactKeys(keys ...string) Option {
	return optionFunc(func(c *config) { c.redactKeys = append(c.redactKeys, keys...) })
}

// WithoutSetDefault stops Start from installing its logger as the slog
// default and its TracerProvider and propagator as the OTel globals.
func WithoutSetDefault() Option {
	return optionFunc(func(c *config) { c.noSetDefault = true })
}

// WithErrorHandler receives failures of background work (exporters that
// cannot deliver, a console that cannot be written). Calls are rate-limited.
// Default: a line on os.Stderr, at most one per second.
func WithErrorHandler(h otel.ErrorHandler) Option {
	return optionFunc(func(c *config) { c.errorHandler = h })
}

// getenvOption replaces os.Getenv, for tests. It is applied before the
// environment is read.
type getenvOption func(string) string

func (g getenvOption) apply(c *config) { c.getenv = g }

// newConfig reads the environment, then applies opts on top, so code wins.
// Errors name the offending variable.
func newConfig(opts []Option) (*config, error) {
	c := &config{getenv: os.Getenv}
	for _, o := range opts {
		if g, ok := o.(getenvOption); ok && g != nil {
			c.getenv = g
		}
	}
	if err := c.loadEnv(); err != nil {
		return nil, err
	}
	for _, o := range opts {
		o.apply(c)
	}
	c.fillDefaults()
	return c, c.validate()
}

func (c *config) loadEnv() error {
	env := c.getenv
	attrs, err := parseResourceAttributes(env("OTEL_RESOURCE_ATTRIBUTES"))
	if err != nil {
		return fmt.Errorf("glassbox: OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	c.service.Name = attrs["service.name"]
	c.service.Version = attrs["service.version"]
	c.service.Environment = attrs["deployment.environment.name"]
	if c.service.Environment == "" {
		c.service.Environment = attrs["deployment.environment"]
	}
	if v := env("OTEL_SERVICE_NAME"); v != "" {
		c.service.Name = v
	}
	if c.service.Environment == "" {
		c.service.Environment = env("SENTRY_ENVIRONMENT")
	}
	if v := env("GLASSBOX_LOG_LEVEL"); v != "" {
		l, err := log.ParseLevel(v)
		if err != nil {
			return fmt.Errorf("glassbox: GLASSBOX_LOG_LEVEL: %w", err)
		}
		c.level = l
	}
	if v := env("GLASSBOX_LOG_FORMAT"); v != "" {
		c.format = v
	}
	if v := env("GLASSBOX_REDACT_KEYS"); v != "" {
		for _, k := range strings.Split(v, ",") {
			if k = strings.TrimSpace(k); k != "" {
				c.redactKeys = append(c.redactKeys, k)
			}
		}
	}
	if err := c.es.loadEnv(env); err != nil {
		return err
	}
	if err := c.otlp.loadEnv(env); err != nil {
		return err
	}
	return c.file.loadEnv(env) // the Sentry exporter reads its own
}

func (c *config) fillDefaults() {
	if c.service.Name == "" {
		c.service.Name = defaultServiceName()
	}
	if c.level == nil {
		c.level = slog.LevelInfo
	}
	if c.writer == nil && !c.noWriter {
		c.writer = os.Stdout
	}
}

func (c *config) validate() error {
	switch strings.ToLower(c.format) {
	case "", "json", "text":
	default:
		return fmt.Errorf("glassbox: GLASSBOX_LOG_FORMAT: unknown format %q (want json or text)", c.format)
	}
	return nil
}

func defaultServiceName() string {
	exe, err := os.Executable()
	if err != nil || exe == "" {
		return "unknown_service"
	}
	name := exe[strings.LastIndexAny(exe, `/\`)+1:]
	return "unknown_service:" + name
}

// parseResourceAttributes parses the W3C-baggage-like list of
// OTEL_RESOURCE_ATTRIBUTES: key=value pairs separated by commas, values
// percent-encoded.
func parseResourceAttributes(s string) (map[string]string, error) {
	m := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return m, nil
	}
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("item %d %q is not key=value", i+1, part)
		}
		dv, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("item %d: value of %q is not valid percent-encoding", i+1, k)
		}
		m[k] = dv
	}
	return m, nil
}
