package glassbox

import (
	"context"
	"fmt"
	"strings"

	"github.com/glassbox-obs/glassbox/exporter/otlp"
)

// otlpConfig decides whether Start exports spans and logs over OTLP: what
// the environment asks for, then WithOTLP. The OTLP exporter package reads
// the protocol, timeout, queue and batch variables itself, through Start's
// getenv (otlp.WithGetenv); the OTel SDK's exporters read the endpoint,
// headers, compression and TLS variables from the process environment.
type otlpConfig struct {
	tracesEndpoint bool    // an endpoint variable covers traces
	logsEndpoint   bool    // an endpoint variable covers logs
	tracesExporter string  // OTEL_TRACES_EXPORTER: "", "otlp" or "none"
	logsExporter   string  // OTEL_LOGS_EXPORTER: "", "otlp" or "none"
	warnings       []error // ignored values, reported at setup

	// Code options.
	enabled bool // WithOTLP given
	opts    []otlp.Option
}

func (c *otlpConfig) loadEnv(getenv func(string) string) error {
	all := getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != ""
	c.tracesEndpoint = all || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
	c.logsEndpoint = all || getenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT") != ""
	c.tracesExporter = c.exporterEnv(getenv, "OTEL_TRACES_EXPORTER")
	c.logsExporter = c.exporterEnv(getenv, "OTEL_LOGS_EXPORTER")
	return nil
}

// exporterEnv reads OTEL_TRACES_EXPORTER or OTEL_LOGS_EXPORTER: "otlp"
// anywhere in the list wins over "none"; other names are ignored with a
// warning (glassbox ships only OTLP).
func (c *otlpConfig) exporterEnv(getenv func(string) string, name string) string {
	exporter := ""
	for _, v := range strings.Split(getenv(name), ",") {
		switch v = strings.ToLower(strings.TrimSpace(v)); v {
		case "":
		case "otlp", "none":
			if exporter != "otlp" {
				exporter = v
			}
		default:
			c.warnings = append(c.warnings, fmt.Errorf("glassbox: %s: exporter %q is not supported, ignored (want otlp or none)", name, v))
		}
	}
	return exporter
}

// WithOTLP turns on OTLP export of spans and logs, configured by opts on
// top of the OTEL_EXPORTER_OTLP_* environment (opts win). Without it, OTLP
// export is on for a signal when OTEL_EXPORTER_OTLP_ENDPOINT or the
// signal's own endpoint variable is set, or OTEL_TRACES_EXPORTER /
// OTEL_LOGS_EXPORTER is "otlp"; with nothing set, nothing is exported over
// the network. OTEL_TRACES_EXPORTER=none or OTEL_LOGS_EXPORTER=none still
// turns a signal off, and OTEL_SDK_DISABLED=true turns both off.
func WithOTLP(opts ...otlp.Option) Option {
	return optionFunc(func(c *config) {
		c.otlp.enabled = true
		c.otlp.opts = append(c.otlp.opts, opts...)
	})
}

// on reports whether OTLP export of a signal is wanted.
func (c *otlpConfig) on(sdkDisabled bool, exporter string, endpoint bool) bool {
	switch {
	case sdkDisabled || exporter == "none":
		return false
	case c.enabled || exporter == "otlp":
		return true
	}
	return endpoint
}

func setupOTLP(ctx context.Context, b *builder) error {
	c := &b.cfg.otlp
	for _, w := range c.warnings {
		b.errorHandler.Handle(w)
	}
	disabled := b.cfg.tracing.disabled
	if c.on(disabled, c.tracesExporter, c.tracesEndpoint) {
		opts := append([]otlp.Option{otlp.WithGetenv(b.cfg.getenv), otlp.WithErrorHandler(b.errorHandler), otlp.WithMeterProvider(b.meter()),
			otlp.WithRedactor(b.redactor)}, c.opts...)
		exp, err := otlp.NewSpanExporter(ctx, opts...)
		if err != nil {
			return fmt.Errorf("glassbox: %w", err)
		}
		p := otlp.NewSpanProcessor(exp, opts...)
		b.spanProcessors = append(b.spanProcessors, p)
		b.onStats(func(st *Stats) { st.OTLPSpans, st.Enabled.OTLPSpans = p.Stats(), true })
		// The TracerProvider shuts p down; this covers a failed Start and
		// a TracerProvider that skipped it (its deadline already passed).
		b.onShutdown(p.Shutdown)
	}
	if c.on(disabled, c.logsExporter, c.logsEndpoint) {
		opts := append([]otlp.Option{otlp.WithGetenv(b.cfg.getenv), otlp.WithErrorHandler(b.errorHandler), otlp.WithResource(b.resource), otlp.WithMeterProvider(b.meter())}, c.opts...)
		exp, err := otlp.NewLogExporter(ctx, opts...)
		if err != nil {
			return fmt.Errorf("glassbox: %w", err)
		}
		s := otlp.NewSink(exp, opts...)
		b.sinks = append(b.sinks, s)
		b.onStats(func(st *Stats) { st.OTLPLogs, st.Enabled.OTLPLogs = s.Stats(), true })
		// The log handler shuts s down; this covers a failed Start.
		b.onShutdown(s.Shutdown)
	}
	return nil
}
