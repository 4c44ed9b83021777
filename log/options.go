package log

import (
	"io"
	"log/slog"

	"go.opentelemetry.io/otel"
)

// Option configures a Handler.
type Option interface{ apply(*handlerConfig) }

type optionFunc func(*handlerConfig)

func (f optionFunc) apply(c *handlerConfig) { f(c) }

type handlerConfig struct {
	level        slog.Leveler
	sinks        []Sink
	service      Service
	redactor     *Redactor
	noRedact     bool
	addSource    bool
	loggerName   string
	errorHandler otel.ErrorHandler
	flight       *FlightRecorder
}

// WithLevel sets the minimum level; pass a *slog.LevelVar to change it at
// run time. Default: slog.LevelInfo. (glassbox.Start reads
// GLASSBOX_LOG_LEVEL.)
func WithLevel(l slog.Leveler) Option {
	return optionFunc(func(c *handlerConfig) { c.level = l })
}

// WithSink adds a destination for encoded records. May be repeated; records
// go to sinks in the order given. Default: none, which means a JSON
// WriterSink on os.Stdout.
func WithSink(s Sink) Option {
	return optionFunc(func(c *handlerConfig) {
		if s != nil {
			c.sinks = append(c.sinks, s)
		}
	})
}

// WithWriter is WithSink(NewWriterSink(w, FormatJSON)).
func WithWriter(w io.Writer) Option { return WithSink(NewWriterSink(w, FormatJSON)) }

// WithService sets the service fields stamped on every document. Empty
// fields are left out. Default: none. (glassbox.Start fills it from its
// options, OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.)
func WithService(s Service) Option {
	return optionFunc(func(c *handlerConfig) { c.service = s })
}

// WithRedactor sets the redaction list. Default: NewRedactor(), the
// DefaultRedactKeys.
func WithRedactor(r *Redactor) Option {
	return optionFunc(func(c *handlerConfig) { c.redactor = r; c.noRedact = r == nil })
}

// WithRedactKeys adds names to the default redaction list.
func WithRedactKeys(keys ...string) Option {
	return optionFunc(func(c *handlerConfig) { c.redactor = NewRedactor(keys...); c.noRedact = false })
}

// WithSource adds log.origin.file.name, log.origin.file.line and
// log.origin.function from the record's program counter. Default: off.
func WithSource(on bool) Option {
	return optionFunc(func(c *handlerConfig) { c.addSource = on })
}

// WithLoggerName sets log.logger on every document. Default: none.
func WithLoggerName(name string) Option {
	return optionFunc(func(c *handlerConfig) { c.loggerName = name })
}

// WithErrorHandler receives errors returned by sinks. It is called on the
// logging goroutine and must be quick; it must not log through this handler.
// Default: the OTel global error handler.
func WithErrorHandler(h otel.ErrorHandler) Option {
	return optionFunc(func(c *handlerConfig) { c.errorHandler = h })
}
