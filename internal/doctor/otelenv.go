package doctor

import (
	"fmt"
	"strconv"
	"strings"
)

// The rules below mirror code that reads the process environment itself,
// so that doctor cannot call it with its own getenv: the OTel SDK's
// sampler reader and the OTLP exporter's variables. A parity test
// (otelenv_test.go) drives one table through both, so that the two cannot
// drift apart unnoticed.

// The batching variables the OTLP exporter takes as positive integers, of
// spans and of log records; another value is ignored with a warning.
var (
	spanBatchVariables = []string{"OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "OTEL_BSP_SCHEDULE_DELAY", "OTEL_BSP_EXPORT_TIMEOUT"}
	logBatchVariables  = []string{"OTEL_BLRP_MAX_QUEUE_SIZE"}
)

// checkPositive is the exporter's rule for a batching variable.
func checkPositive(v string) string {
	if v == "" {
		return ""
	}
	if n, err := strconv.Atoi(v); err != nil || n <= 0 {
		return fmt.Sprintf("%q is not a positive integer: the default applies instead", v)
	}
	return ""
}

// checkOTLPTimeout is the exporter's rule for the export timeout of a
// signal: the signal's variable, else the general one, a positive number
// of milliseconds (the exporter refuses to start otherwise).
func checkOTLPTimeout(get func(string) string, sig string) (string, error) {
	name := "OTEL_EXPORTER_OTLP_" + sig + "_TIMEOUT"
	if get(name) == "" {
		name = "OTEL_EXPORTER_OTLP_TIMEOUT"
	}
	v := get(name)
	if v == "" {
		return "", nil
	}
	if ms, err := strconv.Atoi(v); err != nil || ms <= 0 {
		return name, fmt.Errorf("%q is not a positive number of milliseconds", v)
	}
	return "", nil
}

// checkSampler checks OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG as
// the OTel SDK reads them. The SDK does not fail on a bad value: it falls
// back and reports through the OTel error handler, so a problem is a
// warning naming the variable at fault.
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
