package doctor

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"go.opentelemetry.io/contrib/propagators/autoprop"
)

// The rules below have no exported parser to call: the root package's are
// unexported and the OTel SDK's sampler reader is internal. Each mirrors
// the code that reads the variable at Start, and a parity test
// (otelenv_test.go) drives one table through both, so the two cannot
// drift apart unnoticed.

// parseResourceAttributes parses OTEL_RESOURCE_ATTRIBUTES as
// glassbox.Start does: key=value pairs separated by commas, values
// percent-encoded.
func parseResourceAttributes(s string) (map[string]string, error) {
	m := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return m, nil
	}
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("item %d %q is not key=value", i+1, part)
		}
		dv, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("item %d: value of %q is not valid percent-encoding", i+1, k)
		}
		m[k] = dv
	}
	return m, nil
}

// checkLogFormat accepts what GLASSBOX_LOG_FORMAT takes: json or text.
func checkLogFormat(v string) error {
	switch strings.ToLower(v) {
	case "", "json", "text":
		return nil
	}
	return fmt.Errorf("unknown format %q (want json or text)", v)
}

// checkPropagators resolves OTEL_PROPAGATORS with the registry Start uses.
func checkPropagators(v string) error {
	var names []string
	for _, n := range strings.Split(v, ",") {
		if n = strings.ToLower(strings.TrimSpace(n)); n != "" {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil
	}
	_, err := autoprop.TextMapPropagator(names...)
	return err
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
