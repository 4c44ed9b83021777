package glassbox

import (
	"fmt"
	"os"
)

// CheckEnvironment reports what Start would make of the environment that
// getenv reads (os.Getenv when nil), without starting anything: invalid
// holds the values that make Start fail, ignored the values Start ignores
// with a warning; each error names its variable. It covers the variables
// Start reads itself (OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME,
// GLASSBOX_LOG_LEVEL, GLASSBOX_LOG_FORMAT, GLASSBOX_REDACT_KEYS,
// OTEL_PROPAGATORS, OTEL_SDK_DISABLED, OTEL_TRACES_EXPORTER,
// OTEL_LOGS_EXPORTER, OTEL_METRICS_EXPORTER's names,
// GLASSBOX_FLIGHT_RECORDER, GLASSBOX_DEBUG_KEYS), with the code Start runs; the exporters check their
// own against a given environment too (elasticsearch.Connect,
// otlp.TraceSettings and otlp.LogSettings, sentry.Check, each with its
// WithGetenv). "glassbox doctor" calls them all.
func CheckEnvironment(getenv func(string) string) (invalid, ignored []error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	c := &config{getenv: getenv}
	add := func(err error) {
		if err != nil {
			invalid = append(invalid, err)
		}
	}
	add(c.loadServiceEnv(getenv))
	add(c.logging.loadEnv(getenv))
	add(c.logging.validate())
	c.tracing.loadEnv(getenv)
	if c.tracing.propagators != nil {
		if _, err := propagatorsNamed(c.tracing.propagators); err != nil {
			add(fmt.Errorf("glassbox: OTEL_PROPAGATORS: %w", err))
		}
	}
	add(c.otlp.loadEnv(getenv))
	c.metrics.loadEnv(getenv)
	add(c.flight.loadEnv(getenv))
	add(c.debug.loadEnv(getenv))
	return invalid, append(c.otlp.warnings, c.metrics.warnings...)
}
