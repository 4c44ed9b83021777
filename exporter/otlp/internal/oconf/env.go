package oconf

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// loadEnv fills what the options left unset from the variables this
// package resolves itself, through c.Getenv (the SDK's exporters read the
// others from the process environment: endpoint, headers, compression,
// TLS). signal is "TRACES", "LOGS" or "METRICS";
// the per-signal variable wins over the general one.
func (c *Config) loadEnv(signal string) {
	if c.Protocol == "" {
		name, v := c.lookupEnv("OTEL_EXPORTER_OTLP_"+signal+"_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
		p, err := ParseProtocol(v)
		if err != nil {
			c.Fail(fmt.Errorf("%s: %w", name, err))
		}
		c.Protocol = p
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
		if name, v := c.lookupEnv("OTEL_EXPORTER_OTLP_"+signal+"_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"); v != "" {
			ms, err := strconv.Atoi(v)
			if err != nil || ms <= 0 {
				c.Fail(fmt.Errorf("%s: %q is not a positive number of milliseconds", name, v))
			} else {
				c.Timeout = time.Duration(ms) * time.Millisecond
			}
		}
	}
	if c.QueueSize <= 0 && signal != "METRICS" {
		name := "OTEL_BSP_MAX_QUEUE_SIZE"
		if signal == "LOGS" {
			name = "OTEL_BLRP_MAX_QUEUE_SIZE"
		}
		c.QueueSize = c.PositiveEnv(name, DefaultMaxQueueSize)
	}
	if signal == "TRACES" {
		// The SDK's batch span processor takes any integer from these
		// variables: a negative batch size makes it panic, a negative
		// delay makes it spin. The log processor checks them itself.
		c.BSP.MaxExportBatchSize = min(c.PositiveEnv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", sdktrace.DefaultMaxExportBatchSize), c.QueueSize)
		c.BSP.ScheduleDelay = time.Duration(c.PositiveEnv("OTEL_BSP_SCHEDULE_DELAY", sdktrace.DefaultScheduleDelay)) * time.Millisecond
		c.BSP.ExportTimeout = time.Duration(c.PositiveEnv("OTEL_BSP_EXPORT_TIMEOUT", sdktrace.DefaultExportTimeout)) * time.Millisecond
	}
}

// PositiveEnv reads a variable that must be a positive integer: def when
// it is unset, def and a warning when it is anything else.
func (c *Config) PositiveEnv(name string, def int) int {
	_, v := c.lookupEnv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		c.Warnings = append(c.Warnings, fmt.Errorf("otlp: %s: %q is not a positive integer, ignored", name, v))
		return def
	}
	return n
}

// lookupEnv returns the first of the variables that is set (not blank),
// with its trimmed value; the last name and "" when none is.
func (c *Config) lookupEnv(names ...string) (name, value string) {
	for _, name = range names {
		if value = strings.TrimSpace(c.Getenv(name)); value != "" {
			return name, value
		}
	}
	return name, ""
}
