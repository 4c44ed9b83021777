package glassbox

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"go.opentelemetry.io/contrib/propagators/autoprop"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/glassbox-obs/glassbox/exporter/otlp"
	"github.com/glassbox-obs/glassbox/trace"
)

// otlpConfig holds the OTLP settings of Start: what the environment asks
// for, then the code options. The OTel exporters read the rest of
// OTEL_EXPORTER_OTLP_* (headers, timeout, compression, TLS) themselves, and
// the SDK reads OTEL_TRACES_SAMPLER[_ARG] and the other OTEL_BSP_* and
// OTEL_BLRP_* variables.
type otlpConfig struct {
	disabled       bool   // OTEL_SDK_DISABLED=true
	tracesEndpoint bool   // an endpoint variable covers traces
	logsEndpoint   bool   // an endpoint variable covers logs
	tracesExporter string // OTEL_TRACES_EXPORTER: "", "otlp" or "none"
	logsExporter   string // OTEL_LOGS_EXPORTER: "", "otlp" or "none"
	tracesProtocol otlp.Protocol
	logsProtocol   otlp.Protocol
	bspQueue       int      // OTEL_BSP_MAX_QUEUE_SIZE, 0 when unset
	blrpQueue      int      // OTEL_BLRP_MAX_QUEUE_SIZE, 0 when unset
	propagators    []string // OTEL_PROPAGATORS, nil when unset
	warnings       []error  // ignored values, reported at setup

	// Code options.
	enabled  bool // WithOTLP given
	opts     []otlp.Option
	sampler  sdktrace.Sampler
	propOpts []propagation.TextMapPropagator
}

func (c *otlpConfig) loadEnv(getenv func(string) string) error {
	c.disabled = strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true")
	all := getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != ""
	c.tracesEndpoint = all || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
	c.logsEndpoint = all || getenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT") != ""

	for _, sig := range []struct {
		name     string
		exporter *string
		protocol *otlp.Protocol
		queueVar string
		queue    *int
	}{
		{"TRACES", &c.tracesExporter, &c.tracesProtocol, "OTEL_BSP_MAX_QUEUE_SIZE", &c.bspQueue},
		{"LOGS", &c.logsExporter, &c.logsProtocol, "OTEL_BLRP_MAX_QUEUE_SIZE", &c.blrpQueue},
	} {
		pv := "OTEL_EXPORTER_OTLP_" + sig.name + "_PROTOCOL"
		v := getenv(pv)
		if v == "" {
			pv = "OTEL_EXPORTER_OTLP_PROTOCOL"
			v = getenv(pv)
		}
		p, err := otlp.ParseProtocol(v)
		if err != nil {
			return fmt.Errorf("glassbox: %s: %w", pv, err)
		}
		*sig.protocol = p

		ev := "OTEL_" + sig.name + "_EXPORTER"
		*sig.exporter = ""
		for _, name := range strings.Split(getenv(ev), ",") {
			switch name = strings.ToLower(strings.TrimSpace(name)); name {
			case "":
			case "otlp", "none":
				if *sig.exporter != "otlp" {
					*sig.exporter = name
				}
			default:
				c.warnings = append(c.warnings, fmt.Errorf("glassbox: %s: exporter %q is not supported, ignored (want otlp or none)", ev, name))
			}
		}

		if v := strings.TrimSpace(getenv(sig.queueVar)); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				c.warnings = append(c.warnings, fmt.Errorf("glassbox: %s: %q is not a positive integer, ignored", sig.queueVar, v))
			} else {
				*sig.queue = n
			}
		}
	}

	c.propagators = nil
	if v := getenv("OTEL_PROPAGATORS"); strings.TrimSpace(v) != "" {
		for _, name := range strings.Split(v, ",") {
			if name = strings.ToLower(strings.TrimSpace(name)); name != "" {
				c.propagators = append(c.propagators, name)
			}
		}
	}
	return nil
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

// WithSampler sets the TracerProvider's sampler. Default: OTEL_TRACES_SAMPLER
// and OTEL_TRACES_SAMPLER_ARG (read by the OTel SDK), then
// parentbased_always_on. OTEL_SDK_DISABLED=true overrides it: nothing is
// sampled.
func WithSampler(s sdktrace.Sampler) Option {
	return optionFunc(func(c *config) { c.otlp.sampler = s })
}

// WithPropagators sets the propagators used for inbound and outbound trace
// context; the correlation ID propagator is always added. Default:
// OTEL_PROPAGATORS (tracecontext, baggage, b3, b3multi, jaeger, xray,
// ottrace, none), then tracecontext and baggage.
func WithPropagators(ps ...propagation.TextMapPropagator) Option {
	return optionFunc(func(c *config) { c.otlp.propOpts = append(c.otlp.propOpts, ps...) })
}

// on reports whether OTLP export of a signal is wanted.
func (c *otlpConfig) on(exporter string, endpoint bool) bool {
	switch {
	case c.disabled || exporter == "none":
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

	// Propagators apply whether or not anything is exported.
	switch {
	case len(c.propOpts) > 0:
		b.propagator = propagation.NewCompositeTextMapPropagator(append(c.propOpts, trace.CorrelationPropagator{})...)
	case c.propagators != nil:
		p, err := autoprop.TextMapPropagator(c.propagators...)
		if err != nil {
			return fmt.Errorf("glassbox: OTEL_PROPAGATORS: %w", err)
		}
		b.propagator = propagation.NewCompositeTextMapPropagator(p, trace.CorrelationPropagator{})
	}

	if c.disabled {
		// Spans keep their IDs (correlation IDs still derive from them)
		// but are neither recorded nor exported anywhere.
		b.tpOptions = append(b.tpOptions, sdktrace.WithSampler(sdktrace.NeverSample()))
		return nil
	}
	if c.sampler != nil {
		b.tpOptions = append(b.tpOptions, sdktrace.WithSampler(c.sampler))
	}

	if c.on(c.tracesExporter, c.tracesEndpoint) {
		opts := []otlp.Option{
			otlp.WithProtocol(c.tracesProtocol),
			otlp.WithErrorHandler(b.errorHandler),
		}
		if c.bspQueue > 0 {
			opts = append(opts, otlp.WithMaxQueueSize(c.bspQueue))
		}
		opts = append(opts, c.opts...)
		exp, err := otlp.NewSpanExporter(ctx, opts...)
		if err != nil {
			return fmt.Errorf("glassbox: %w", err)
		}
		p := otlp.NewSpanProcessor(exp, opts...)
		b.spanProcessors = append(b.spanProcessors, p)
		b.onStats(func(st *Stats) { st.OTLPSpans, st.Enabled.OTLPSpans = p.Stats(), true })
		// The TracerProvider shuts p down; this covers a failed Start.
		b.onShutdown(p.Shutdown)
	}

	if c.on(c.logsExporter, c.logsEndpoint) {
		opts := []otlp.Option{
			otlp.WithProtocol(c.logsProtocol),
			otlp.WithErrorHandler(b.errorHandler),
			otlp.WithResource(b.resource),
		}
		if c.blrpQueue > 0 {
			opts = append(opts, otlp.WithMaxQueueSize(c.blrpQueue))
		}
		opts = append(opts, c.opts...)
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
