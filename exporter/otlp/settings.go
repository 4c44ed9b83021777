package otlp

import (
	"fmt"
	"time"
)

// Settings are the settings this package resolves itself for one signal:
// from the options, then the environment (read through WithGetenv's
// function), then the defaults. The OTel SDK's exporters resolve the rest
// (endpoint, headers, compression, TLS) when they are built.
type Settings struct {
	// Protocol is the transport the exporter speaks.
	Protocol Protocol
	// Timeout bounds one export, retries included.
	Timeout time.Duration
	// MaxQueueSize bounds the spans or log records waiting for export.
	MaxQueueSize int
}

// TraceSettings resolves opts and the environment as NewSpanExporter and
// NewSpanProcessor do, without building anything: err is the error
// NewSpanExporter returns for them, warnings are the ignored values
// NewSpanProcessor reports to the error handler; each names its variable
// (or option). "glassbox doctor" checks an environment with it.
func TraceSettings(opts ...Option) (s Settings, warnings []error, err error) {
	return newConfig("TRACES", opts).settings()
}

// LogSettings resolves opts and the environment as NewLogExporter and
// NewSink do, without building anything: err is the error NewLogExporter
// returns for them, warnings are the ignored values NewSink reports to
// the error handler; each names its variable (or option).
func LogSettings(opts ...Option) (s Settings, warnings []error, err error) {
	return newConfig("LOGS", opts).settings()
}

func (c config) settings() (Settings, []error, error) {
	return Settings{Protocol: c.protocol, Timeout: c.timeout, MaxQueueSize: c.queueSize}, c.warnings, c.error()
}

// error is the error the exporter constructors return for c, or nil.
func (c config) error() error {
	if c.err == nil {
		return nil
	}
	return fmt.Errorf("otlp: %w", c.err)
}
