package glassbox

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/glassbox-obs/glassbox/log"
)

// logConfig holds the settings of the log handler: the environment
// (GLASSBOX_LOG_LEVEL, GLASSBOX_LOG_FORMAT, GLASSBOX_REDACT_KEYS), then
// the code options.
type logConfig struct {
	level      slog.Leveler
	format     string // "json" or "text"
	writer     io.Writer
	noWriter   bool
	sinks      []log.Sink
	redactKeys []string
}

func (c *logConfig) loadEnv(getenv func(string) string) error {
	if v := getenv("GLASSBOX_LOG_LEVEL"); v != "" {
		l, err := log.ParseLevel(v)
		if err != nil {
			return fmt.Errorf("glassbox: GLASSBOX_LOG_LEVEL: %w", err)
		}
		c.level = l
	}
	if v := getenv("GLASSBOX_LOG_FORMAT"); v != "" {
		c.format = v
	}
	if v := getenv("GLASSBOX_REDACT_KEYS"); v != "" {
		for _, k := range strings.Split(v, ",") {
			if k = strings.TrimSpace(k); k != "" {
				c.redactKeys = append(c.redactKeys, k)
			}
		}
	}
	return nil
}

func (c *logConfig) fillDefaults() {
	if c.level == nil {
		c.level = slog.LevelInfo
	}
	if c.writer == nil && !c.noWriter {
		c.writer = os.Stdout
	}
}

func (c *logConfig) validate() error {
	switch strings.ToLower(c.format) {
	case "", "json", "text":
	default:
		return fmt.Errorf("glassbox: GLASSBOX_LOG_FORMAT: unknown format %q (want json or text)", c.format)
	}
	return nil
}

// WithLogLevel sets the minimum level logged; pass a *slog.LevelVar to change
// it at run time. Default: GLASSBOX_LOG_LEVEL (debug, info, warn, error, or
// a number), then info.
func WithLogLevel(l slog.Leveler) Option {
	return optionFunc(func(c *config) { c.logging.level = l })
}

// WithLogFormat sets the console format: "json" (ECS JSON, the default) or
// "text" (human-readable, for local terminals). Default: GLASSBOX_LOG_FORMAT.
// Only the console writer is affected; exporters always get ECS JSON.
func WithLogFormat(format string) Option {
	return optionFunc(func(c *config) { c.logging.format = format })
}

// WithLogWriter sets where console logs go. Default: os.Stdout. A nil writer
// turns console logging off.
func WithLogWriter(w io.Writer) Option {
	return optionFunc(func(c *config) {
		c.logging.writer = w
		c.logging.noWriter = w == nil
	})
}

// WithSink adds a destination for every encoded log record, next to the
// console writer and the configured exporters.
func WithSink(s log.Sink) Option {
	return optionFunc(func(c *config) {
		if s != nil {
			c.logging.sinks = append(c.logging.sinks, s)
		}
	})
}

// WithRedactKeys adds attribute, header and query keys whose values are
// replaced by "[REDACTED]" everywhere glassbox writes them, on top of the
// default list (see log.DefaultRedactKeys). Default: GLASSBOX_REDACT_KEYS
// (comma-separated) adds to the list too.
func WithRedactKeys(keys ...string) Option {
	return optionFunc(func(c *config) { c.logging.redactKeys = append(c.logging.redactKeys, keys...) })
}

// newHandler builds the log handler: the console writer, then the sinks
// of the options and of the exporters, in that order.
func (b *builder) newHandler() *log.Handler {
	c := &b.cfg.logging
	hopts := []log.Option{
		log.WithLevel(c.level),
		log.WithService(b.service),
		log.WithRedactor(b.redactor),
		log.WithErrorHandler(b.errorHandler),
	}
	if c.writer != nil {
		format := log.FormatJSON
		if strings.EqualFold(c.format, "text") {
			format = log.FormatText
		}
		hopts = append(hopts, log.WithSink(log.NewWriterSink(c.writer, format)))
	}
	for _, s := range b.sinks {
		hopts = append(hopts, log.WithSink(s))
	}
	hopts = append(hopts, b.logOptions...)
	if c.writer == nil && len(b.sinks) == 0 {
		// Console turned off and nothing else configured: log nowhere,
		// rather than fall back to the handler's stdout default.
		hopts = append(hopts, log.WithWriter(io.Discard))
	}
	return log.NewHandler(hopts...)
}
