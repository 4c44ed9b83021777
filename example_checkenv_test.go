package glassbox_test

import (
	"fmt"

	"github.com/glassbox-obs/glassbox"
)

// CheckEnvironment tells, before Start, what Start would refuse or
// ignore, each naming its variable.
func ExampleCheckEnvironment() {
	env := map[string]string{
		"GLASSBOX_LOG_LEVEL":  "loud",
		"OTEL_LOGS_EXPORTER":  "console",
		"OTEL_SERVICE_NAME":   "checkout",
		"GLASSBOX_LOG_FORMAT": "text",
	}
	invalid, ignored := glassbox.CheckEnvironment(func(k string) string { return env[k] })
	for _, err := range invalid {
		fmt.Println("invalid:", err)
	}
	for _, err := range ignored {
		fmt.Println("ignored:", err)
	}
	// Output:
	// invalid: glassbox: GLASSBOX_LOG_LEVEL: unknown level "loud" (want debug, info, warn, error, optionally with +N/-N, or a number)
	// ignored: glassbox: OTEL_LOGS_EXPORTER: exporter "console" is not supported, ignored (want otlp or none)
}
