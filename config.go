package glassbox

import (
	"os"

	"go.opentelemetry.io/otel"

	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/middleware"
)

// Option configures Start.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// config holds everything Start needs; the environment is read in
// newConfig, then the code options are applied on top, then the defaults.
type config struct {
	service       log.Service
	resourceAttrs map[string]string // OTEL_RESOURCE_ATTRIBUTES, parsed once
	observers     []middleware.Observer
	noSetDefault  bool
	errorHandler  otel.ErrorHandler
	getenv        func(string) string

	// Per-component settings live in the component's own file.
	logging logConfig
	tracing tracingConfig
	es      esConfig
	otlp    otlpConfig
	sentry  sentryConfig
	file    fileConfig
	metrics metricsConfig
	flight  flightConfig
	debug   debugConfig
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
	c.fillServiceDefaults()
	c.logging.fillDefaults()
	return c, c.logging.validate()
}

// loadEnv reads each component's variables, in the component's own file.
func (c *config) loadEnv() error {
	env := c.getenv
	if err := c.loadServiceEnv(env); err != nil {
		return err
	}
	if err := c.logging.loadEnv(env); err != nil {
		return err
	}
	c.tracing.loadEnv(env)
	if err := c.es.loadEnv(env); err != nil {
		return err
	}
	if err := c.otlp.loadEnv(env); err != nil {
		return err
	}
	c.metrics.loadEnv(env)
	if err := c.flight.loadEnv(env); err != nil {
		return err
	}
	if err := c.debug.loadEnv(env); err != nil {
		return err
	}
	return c.file.loadEnv(env) // the Sentry exporter reads its own
}
