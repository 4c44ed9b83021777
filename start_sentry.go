package glassbox

import (
	"context"
	"errors"
	"fmt"

	"github.com/glassbox-obs/glassbox/exporter/sentry"
)

// sentryConfig holds the code options of WithSentry. The Sentry exporter
// reads its own environment (SENTRY_DSN, SENTRY_ENVIRONMENT,
// SENTRY_RELEASE, SENTRY_SAMPLE_RATE, GLASSBOX_KIBANA_URL) through Start's
// getenv (sentry.WithGetenv).
type sentryConfig struct {
	enabled bool // WithSentry given
	opts    []sentry.Option
}

// WithSentry turns on error reporting to Sentry, configured by opts on top
// of the environment the Sentry exporter reads itself (opts win; see
// sentry.New): SENTRY_DSN, SENTRY_ENVIRONMENT (default: the service
// environment), SENTRY_RELEASE (default: the service version),
// SENTRY_SAMPLE_RATE (default 1) and GLASSBOX_KIBANA_URL (a Discover link
// to the request's logs on every event). Without WithSentry, reporting is
// on when SENTRY_DSN is set; with neither, nothing is set up and nothing
// goes over the network. The Reporter is a request observer (see
// Telemetry.Observers) and a log sink; it uses the redaction list and the
// service of Start.
func WithSentry(opts ...sentry.Option) Option {
	return optionFunc(func(c *config) {
		c.sentry.enabled = true
		c.sentry.opts = append(c.sentry.opts, opts...)
	})
}

func setupSentry(_ context.Context, b *builder) error {
	c := &b.cfg.sentry
	opts := append([]sentry.Option{
		sentry.WithGetenv(b.cfg.getenv),
		sentry.WithService(b.service),
		sentry.WithRedactor(b.redactor),
		sentry.WithErrorHandler(b.errorHandler),
		sentry.WithMeterProvider(b.meter()),
	}, c.opts...)
	rep, err := sentry.New(opts...)
	switch {
	case errors.Is(err, sentry.ErrNoDSN) && !c.enabled:
		return nil // neither SENTRY_DSN nor WithSentry: nothing to set up
	case err != nil:
		return fmt.Errorf("glassbox: %w", err)
	}
	b.observers = append(b.observers, rep)
	b.sinks = append(b.sinks, rep)
	b.onStats(func(st *Stats) { st.Sentry, st.Enabled.Sentry = rep.Stats(), true })
	b.onShutdown(rep.Shutdown)
	return nil
}
