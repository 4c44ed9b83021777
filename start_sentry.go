package glassbox

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/glassbox-obs/glassbox/exporter/sentry"
)

// sentryConfig holds the Sentry settings of Start: the environment first,
// then the code options of WithSentry on top.
type sentryConfig struct {
	dsn         string  // SENTRY_DSN
	environment string  // SENTRY_ENVIRONMENT
	release     string  // SENTRY_RELEASE
	sampleRate  float64 // SENTRY_SAMPLE_RATE; 0 when unset
	kibanaURL   string  // GLASSBOX_KIBANA_URL

	// Code options.
	enabled bool // WithSentry given
	opts    []sentry.Option
}

func (c *sentryConfig) loadEnv(getenv func(string) string) error {
	c.dsn = strings.TrimSpace(getenv("SENTRY_DSN"))
	c.environment = strings.TrimSpace(getenv("SENTRY_ENVIRONMENT"))
	c.release = strings.TrimSpace(getenv("SENTRY_RELEASE"))
	c.sampleRate = 0
	if v := strings.TrimSpace(getenv("SENTRY_SAMPLE_RATE")); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f > 0 && f <= 1) {
			return fmt.Errorf("glassbox: SENTRY_SAMPLE_RATE: %q is not a number in (0, 1] (unset SENTRY_DSN to send nothing)", v)
		}
		c.sampleRate = f
	}
	c.kibanaURL = strings.TrimSpace(getenv("GLASSBOX_KIBANA_URL"))
	if c.kibanaURL != "" {
		u, err := url.Parse(c.kibanaURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("glassbox: GLASSBOX_KIBANA_URL: %q is not an http(s) URL", c.kibanaURL)
		}
	}
	return nil
}

// WithSentry turns on error reporting to Sentry, configured by opts on top
// of the environment (opts win): SENTRY_DSN, SENTRY_ENVIRONMENT (default:
// the service environment), SENTRY_RELEASE (default: the service version),
// SENTRY_SAMPLE_RATE (default 1) and GLASSBOX_KIBANA_URL (a Discover link
// to the request's logs on every event). Without WithSentry, reporting is
// on when SENTRY_DSN is set; with neither, nothing is set up and nothing
// goes over the network. The Reporter is a request observer (see
// Telemetry.Observers) and a log sink; it uses the redaction list and the
// service name of Start.
func WithSentry(opts ...sentry.Option) Option {
	return optionFunc(func(c *config) {
		c.sentry.enabled = true
		c.sentry.opts = append(c.sentry.opts, opts...)
	})
}

func setupSentry(_ context.Context, b *builder) error {
	c := &b.cfg.sentry
	if !c.enabled && c.dsn == "" {
		return nil
	}
	env := c.environment
	if env == "" {
		env = b.service.Environment
	}
	release := c.release
	if release == "" {
		release = b.service.Version
	}
	opts := []sentry.Option{
		sentry.WithService(b.service.Name),
		sentry.WithRedactor(b.redactor),
		sentry.WithErrorHandler(b.errorHandler),
	}
	if c.dsn != "" {
		opts = append(opts, sentry.WithDSN(c.dsn))
	}
	if env != "" {
		opts = append(opts, sentry.WithEnvironment(env))
	}
	if release != "" {
		opts = append(opts, sentry.WithRelease(release))
	}
	if c.sampleRate > 0 {
		opts = append(opts, sentry.WithSampleRate(c.sampleRate))
	}
	if c.kibanaURL != "" {
		opts = append(opts, sentry.WithKibanaURL(c.kibanaURL))
	}
	rep, err := sentry.New(append(opts, c.opts...)...)
	if err != nil {
		if c.dsn != "" && !c.enabled {
			return fmt.Errorf("glassbox: SENTRY_DSN: %w", err)
		}
		return fmt.Errorf("glassbox: %w", err)
	}
	b.observers = append(b.observers, rep)
	b.sinks = append(b.sinks, rep)
	b.onStats(func(st *Stats) { st.Sentry, st.Enabled.Sentry = rep.Stats(), true })
	b.onShutdown(rep.Shutdown)
	return nil
}
