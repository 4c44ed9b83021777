package doctor

import (
	"fmt"
	"strconv"
	"strings"
)

// checkSampler checks OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG as
// the OTel SDK reads them. The SDK does not fail on a bad value: it falls
// back and reports through the OTel error handler, so a problem is a
// warning naming the variable at fault.
//
// Doctor mirrors this rule instead of calling it (as it does the OTLP
// endpoint and headers, see readEndpoint): glassbox.Start does not read
// these variables (tracing.go passes a sampler only when WithSampler
// gives one); sdktrace.NewTracerProvider reads them from the process
// environment inside the SDK (its internal env package, with no getenv to
// pass and no exported parser), and a TracerProvider built to find out
// would report through the global OTel error handler. A parity test
// (TestSamplerParityWithTheSDK) drives one table through this function
// and through the SDK, so that the two cannot drift apart unnoticed.
func checkSampler(sampler, arg string) (variable, msg string) {
	switch strings.ToLower(sampler) {
	case "", "always_on", "always_off", "parentbased_always_on", "parentbased_always_off":
		return "", ""
	case "traceidratio", "parentbased_traceidratio":
		if arg == "" {
			return "", ""
		}
		r, err := strconv.ParseFloat(arg, 64)
		switch {
		case err != nil:
			return "OTEL_TRACES_SAMPLER_ARG", fmt.Sprintf("%q is not a number: every trace is sampled instead", arg)
		case r < 0 || r > 1:
			return "OTEL_TRACES_SAMPLER_ARG", fmt.Sprintf("%s is outside [0, 1]: every trace is sampled instead", arg)
		}
		return "", ""
	}
	return "OTEL_TRACES_SAMPLER", fmt.Sprintf("unsupported sampler %q: parentbased_always_on applies instead (want always_on, always_off, traceidratio or their parentbased_ forms)", sampler)
}
