package otlp

import "time"

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
	return settingsOf(newConfig("TRACES", opts))
}

// LogSettings resolves opts and the environment as NewLogExporter and
// NewSink do, without building anything: err is the error NewLogExporter
// returns for them, warnings are the ignored values NewSink reports to
// the error handler; each names its variable (or option).
func LogSettings(opts ...Option) (s Settings, warnings []error, err error) {
	return settingsOf(newConfig("LOGS", opts))
}

// MetricSettings resolves opts and the environment as package otlpmetric's
// NewExporter does (OTEL_EXPORTER_OTLP_METRICS_* winning over
// OTEL_EXPORTER_OTLP_*), without building anything: err is the error it
// returns for them, warnings the ignored values it reports. MaxQueueSize
// does not apply to metrics (a periodic reader queues nothing).
func MetricSettings(opts ...Option) (s Settings, warnings []error, err error) {
	return settingsOf(newConfig("METRICS", opts))
}

func settingsOf(c config) (Settings, []error, error) {
	return Settings{Protocol: Protocol(c.Protocol), Timeout: c.Timeout, MaxQueueSize: c.QueueSize}, c.Warnings, c.Error("otlp")
}
