package otlp

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// loadEnv fills what the options left unset from the variables this
// package resolves itself, through c.getenv (the SDK's exporters read the
// others from the process environment: endpoint, headers, compression,
// TLS). signal is "TRACES" or "LOGS"; the per-signal variable wins over
// the general one.
func (c *config) loadEnv(signal string) {
	if c.protocol == "" {
		name, v := c.lookupEnv("OTEL_EXPORTER_OTLP_"+signal+"_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
		p, err := ParseProtocol(v)
		if err != nil {
			c.fail(fmt.Errorf("%s: %w", name, err))
		}
		c.protocol = p
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
		if name, v := c.lookupEnv("OTEL_EXPORTER_OTLP_"+signal+"_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"); v != "" {
			ms, err := strconv.Atoi(v)
			if err != nil || ms <= 0 {
				c.fail(fmt.Errorf("%s: %q is not a positive number of milliseconds", name, v))
			} else {
				c.timeout = time.Duration(ms) * time.Millisecond
			}
		}
	}
	if c.queueSize <= 0 {
		name := "OTEL_BSP_MAX_QUEUE_SIZE"
		if signal == "LOGS" {
			name = "OTEL_BLRP_MAX_QUEUE_SIZE"
		}
		c.queueSize = c.positiveEnv(name, DefaultMaxQueueSize)
	}
	if signal == "TRACES" {
		// The SDK's batch span processor takes any integer from these
		// variables: a negative batch size makes it panic, a negative
		// delay makes it spin. The log processor checks them itself.
		c.bsp.maxExportBatchSize = min(c.positiveEnv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", sdktrace.DefaultMaxExportBatchSize), c.queueSize)
		c.bsp.scheduleDelay = time.Duration(c.positiveEnv("OTEL_BSP_SCHEDULE_DELAY", sdktrace.DefaultScheduleDelay)) * time.Millisecond
		c.bsp.exportTimeout = time.Duration(c.positiveEnv("OTEL_BSP_EXPORT_TIMEOUT", sdktrace.DefaultExportTimeout)) * time.Millisecond
	}
}

// bspConfig holds the batch span processor settings this package passes
// to the SDK explicitly.
type bspConfig struct {
	maxExportBatchSize int
	scheduleDelay      time.Duration
	exportTimeout      time.Duration
}

// positiveEnv reads a variable that must be a positive integer: def when
// it is unset, def and a warning when it is anything else.
func (c *config) positiveEnv(name string, def int) int {
	_, v := c.lookupEnv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		c.warnings = append(c.warnings, fmt.Errorf("otlp: %s: %q is not a positive integer, ignored", name, v))
		return def
	}
	return n
}

// lookupEnv returns the first of the variables that is set (not blank),
// with its trimmed value; the last name and "" when none is.
func (c *config) lookupEnv(names ...string) (name, value string) {
	for _, name = range names {
		if value = strings.TrimSpace(c.getenv(name)); value != "" {
			return name, value
		}
	}
	return name, ""
}

// fail records the first configuration error.
func (c *config) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}
