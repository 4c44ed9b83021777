package glassbox

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"go.opentelemetry.io/contrib/propagators/aws/xray"
	"go.opentelemetry.io/contrib/propagators/b3"
	"go.opentelemetry.io/contrib/propagators/jaeger"
	"go.opentelemetry.io/contrib/propagators/ot"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/glassbox-obs/glassbox/trace"
)

// tracingConfig holds the tracing settings of Start, whatever the
// exporters: OTEL_SDK_DISABLED and OTEL_PROPAGATORS, then the code
// options. The OTel SDK reads OTEL_TRACES_SAMPLER[_ARG] itself.
type tracingConfig struct {
	disabled    bool     // OTEL_SDK_DISABLED=true
	propagators []string // OTEL_PROPAGATORS, nil when unset

	// Code options.
	sampler        sdktrace.Sampler
	propOpts       []propagation.TextMapPropagator
	spanProcessors []sdktrace.SpanProcessor
}

func (c *tracingConfig) loadEnv(getenv func(string) string) {
	c.disabled = strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true")
	c.propagators = nil
	if v := getenv("OTEL_PROPAGATORS"); strings.TrimSpace(v) != "" {
		for _, name := range strings.Split(v, ",") {
			if name = strings.ToLower(strings.TrimSpace(name)); name != "" {
				c.propagators = append(c.propagators, name)
			}
		}
	}
}

// WithSampler sets the TracerProvider's sampler. Default: OTEL_TRACES_SAMPLER
// and OTEL_TRACES_SAMPLER_ARG (read by the OTel SDK), then
// parentbased_always_on. OTEL_SDK_DISABLED=true overrides it: nothing is
// sampled.
func WithSampler(s sdktrace.Sampler) Option {
	return optionFunc(func(c *config) { c.tracing.sampler = s })
}

// WithPropagators sets the propagators used for inbound and outbound trace
// context; the correlation ID propagator is always added. Default:
// OTEL_PROPAGATORS (tracecontext, baggage, b3, b3multi, jaeger, xray,
// ottrace, none), then tracecontext and baggage.
func WithPropagators(ps ...propagation.TextMapPropagator) Option {
	return optionFunc(func(c *config) { c.tracing.propOpts = append(c.tracing.propOpts, ps...) })
}

// WithSpanProcessor adds a span processor to the TracerProvider, next to the
// ones of the configured exporters.
func WithSpanProcessor(p sdktrace.SpanProcessor) Option {
	return optionFunc(func(c *config) {
		if p != nil {
			c.tracing.spanProcessors = append(c.tracing.spanProcessors, p)
		}
	})
}

// defaultPropagators is what an unset OTEL_PROPAGATORS means.
func defaultPropagators() []string { return []string{"tracecontext", "baggage"} }

// propagatorNamed maps one OTEL_PROPAGATORS name to its propagator. It is
// the one place where a name gets its implementation, for the default
// list as for the variable.
func propagatorNamed(name string) (propagation.TextMapPropagator, bool) {
	switch name {
	case "tracecontext":
		// glassbox's own W3C Trace Context propagator (the current rules
		// for repeated headers and tracestate), not OTel's.
		return trace.TraceContext{}, true
	case "baggage":
		return propagation.Baggage{}, true
	case "b3":
		return b3.New(), true
	case "b3multi":
		return b3.New(b3.WithInjectEncoding(b3.B3MultipleHeader)), true
	case "jaeger":
		return jaeger.Jaeger{}, true
	case "xray":
		return xray.Propagator{}, true
	case "ottrace":
		return ot.OT{}, true
	}
	return nil, false
}

// propagatorsNamed maps a list of OTEL_PROPAGATORS names. "none" anywhere
// means none at all; an unknown name is an error; a repeated one counts once.
func propagatorsNamed(names []string) ([]propagation.TextMapPropagator, error) {
	if slices.Contains(names, "none") {
		return nil, nil
	}
	var (
		ps      []propagation.TextMapPropagator
		unknown []string
	)
	for i, name := range names {
		if slices.Contains(names[:i], name) {
			continue
		}
		p, ok := propagatorNamed(name)
		if !ok {
			unknown = append(unknown, name)
			continue
		}
		ps = append(ps, p)
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("unknown propagator %s (want tracecontext, baggage, b3, b3multi, jaeger, xray, ottrace or none)", strings.Join(unknown, ", "))
	}
	return ps, nil
}

// setupTracing chooses the propagator (the correlation ID propagator is
// always last) and the sampler, whether or not anything is exported.
func setupTracing(_ context.Context, b *builder) error {
	c := &b.cfg.tracing
	ps := c.propOpts
	if len(ps) == 0 {
		names := c.propagators
		if names == nil {
			names = defaultPropagators()
		}
		var err error
		if ps, err = propagatorsNamed(names); err != nil {
			return fmt.Errorf("glassbox: OTEL_PROPAGATORS: %w", err)
		}
	}
	b.propagator = propagation.NewCompositeTextMapPropagator(append(slices.Clip(ps), trace.CorrelationPropagator{})...)

	switch {
	case c.disabled:
		// Spans keep their IDs (correlation IDs still derive from them)
		// but are neither recorded nor exported anywhere.
		b.tpOptions = append(b.tpOptions, sdktrace.WithSampler(sdktrace.NeverSample()))
	case c.sampler != nil:
		b.tpOptions = append(b.tpOptions, sdktrace.WithSampler(c.sampler))
	}
	return nil
}

// newTracerProvider builds the TracerProvider over the span processors of
// the options and the exporters.
func (b *builder) newTracerProvider() *sdktrace.TracerProvider {
	tpOpts := append([]sdktrace.TracerProviderOption{
		sdktrace.WithResource(b.resource),
		// First, so that every exporter sees correlation.id on every span
		// started inside a request, not only on the middleware's.
		sdktrace.WithSpanProcessor(CorrelationSpanProcessor{}),
	}, b.tpOptions...)
	switch len(b.spanProcessors) {
	case 0:
	case 1:
		tpOpts = append(tpOpts, sdktrace.WithSpanProcessor(b.spanProcessors[0]))
	default:
		tpOpts = append(tpOpts, sdktrace.WithSpanProcessor(fanoutProcessor(b.spanProcessors)))
	}
	return sdktrace.NewTracerProvider(tpOpts...)
}
