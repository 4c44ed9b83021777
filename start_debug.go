package glassbox

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/glassbox-obs/glassbox/internal/debugtoken"
	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/middleware/breakglass"
)

// EnvDebugKeys lists the keys of break-glass debugging, "kid:base64secret"
// entries separated by commas (see breakglass.ParseKeys).
const EnvDebugKeys = "GLASSBOX_DEBUG_KEYS"

// debugConfig holds the break-glass settings: GLASSBOX_DEBUG_KEYS, then
// WithDebugKeys.
type debugConfig struct {
	keys []breakglass.Key
}

func (c *debugConfig) loadEnv(getenv func(string) string) error {
	v := getenv(EnvDebugKeys)
	if strings.TrimSpace(v) == "" {
		return nil
	}
	keys, err := breakglass.ParseKeys(v)
	if err != nil {
		return fmt.Errorf("glassbox: %s: %w", EnvDebugKeys, err)
	}
	c.keys = keys
	return nil
}

// WithDebugKeys turns break-glass debugging on with keys (see package
// middleware/breakglass): a request carrying a token signed with one of
// them in X-Glassbox-Debug (gRPC metadata x-glassbox-debug), minted with
// `glassbox debug-token`, is logged from DEBUG up, its trace is sampled,
// the services it calls with the same keys do the same for it, and an
// audit record is written at WARN to every sink. Several keys allow
// rotation. Start installs the sampler that forces the sampling (see
// DebugSampler) around the configured one. Its counters are in
// Telemetry.Stats().BreakGlass. Default: GLASSBOX_DEBUG_KEYS
// ("kid:base64secret,..."); this option wins. With no key the feature is
// off and the header an ordinary one.
func WithDebugKeys(keys ...breakglass.Key) Option {
	return optionFunc(func(c *config) { c.debug.keys = append([]breakglass.Key(nil), keys...) })
}

// setupDebug builds the BreakGlass for the middleware default and wraps
// the sampler in DebugSampler.
func setupDebug(_ context.Context, b *builder) error {
	c := &b.cfg.debug
	if len(c.keys) == 0 {
		return nil
	}
	bg, err := breakglass.New(b.service.Name, c.keys, 0)
	if err != nil {
		return fmt.Errorf("glassbox: %s: %w", EnvDebugKeys, err)
	}
	b.mwOptions = append(b.mwOptions, middleware.WithBreakGlass(bg))
	b.onStats(func(st *Stats) { st.BreakGlass, st.Enabled.BreakGlass = bg.Stats(), true })
	if !b.cfg.tracing.disabled {
		base := b.cfg.tracing.sampler
		if base == nil {
			base = samplerFromEnv(b.cfg.getenv, b.errorHandler.Handle)
		}
		b.tpOptions = append(b.tpOptions, sdktrace.WithSampler(DebugSampler(base)))
	}
	return nil
}

// DebugSampler returns a sampler that samples every span started in the
// context of a request break-glass debugging was granted to (see package
// middleware/breakglass), and passes the grant on in the span's
// tracestate (member "glassbox"), so that the calls the request makes are
// sampled and debugged downstream too; base decides for every other span.
// Start installs it when debug keys are configured; install it yourself
// with middleware.WithBreakGlass outside Start. A nil base means
// ParentBased(AlwaysSample()), the SDK's default.
func DebugSampler(base sdktrace.Sampler) sdktrace.Sampler {
	if base == nil {
		base = sdktrace.ParentBased(sdktrace.AlwaysSample())
	}
	return debugSampler{base: base}
}

type debugSampler struct{ base sdktrace.Sampler }

func (s debugSampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	res := s.base.ShouldSample(p)
	g := debugtoken.GrantFrom(p.ParentContext)
	if g == nil {
		return res
	}
	res.Decision = sdktrace.RecordAndSample
	if ts, err := res.Tracestate.Insert(debugtoken.StateKey, g.StateValue(p.TraceID)); err == nil {
		res.Tracestate = ts
	}
	return res
}

func (s debugSampler) Description() string {
	return "GlassboxDebug{" + s.base.Description() + "}"
}

// samplerFromEnv is the sampler OTEL_TRACES_SAMPLER and
// OTEL_TRACES_SAMPLER_ARG configure, as the OTel SDK reads them (which it
// does only when given no sampler; the debug sampler needs it as its
// base): the SDK's default, ParentBased(AlwaysSample()), when unset; an
// unknown name or a bad argument is reported and falls back as the SDK
// does.
func samplerFromEnv(getenv func(string) string, report func(error)) sdktrace.Sampler {
	name := strings.ToLower(strings.TrimSpace(getenv("OTEL_TRACES_SAMPLER")))
	arg := strings.TrimSpace(getenv("OTEL_TRACES_SAMPLER_ARG"))
	ratio := func() sdktrace.Sampler {
		if arg == "" {
			return sdktrace.TraceIDRatioBased(1)
		}
		v, err := strconv.ParseFloat(arg, 64)
		if err != nil || v < 0 || v > 1 {
			report(fmt.Errorf("glassbox: OTEL_TRACES_SAMPLER_ARG: %q is not a ratio between 0 and 1", truncate(arg, 32)))
			return sdktrace.TraceIDRatioBased(1)
		}
		return sdktrace.TraceIDRatioBased(v)
	}
	switch name {
	case "always_on":
		return sdktrace.AlwaysSample()
	case "always_off":
		return sdktrace.NeverSample()
	case "traceidratio":
		return ratio()
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample())
	case "parentbased_traceidratio":
		return sdktrace.ParentBased(ratio())
	case "", "parentbased_always_on":
	default:
		report(fmt.Errorf("glassbox: OTEL_TRACES_SAMPLER: unsupported sampler %q", truncate(name, 32)))
	}
	return sdktrace.ParentBased(sdktrace.AlwaysSample())
}
