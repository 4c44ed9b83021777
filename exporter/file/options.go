package file

import (
	"os"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"

	"github.com/glassbox-obs/glassbox/log"
)

// Option configures an Exporter.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// EnvDir is the environment variable that names the directory when WithDir
// is not given.
const EnvDir = "GLASSBOX_FILE_DIR"

// Defaults.
const (
	DefaultMaxBytes   = 64 << 20 // per file
	DefaultMaxFiles   = 4        // per stream, the active file included
	DefaultQueueBytes = 8 << 20
)

type config struct {
	dir          string
	maxBytes     int64
	maxFiles     int
	queueBytes   int64
	service      log.Service
	redactor     *log.Redactor
	errorHandler otel.ErrorHandler
	meter        metric.MeterProvider
}

func newConfig(opts []Option) config {
	c := config{dir: strings.TrimSpace(os.Getenv(EnvDir))}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	if c.maxBytes <= 0 {
		c.maxBytes = DefaultMaxBytes
	}
	if c.maxFiles <= 0 {
		c.maxFiles = DefaultMaxFiles
	}
	if c.queueBytes <= 0 {
		c.queueBytes = DefaultQueueBytes
	}
	if c.redactor == nil {
		c.redactor = log.NewRedactor()
	}
	c.service.Fill()
	return c
}

// WithDir sets the directory the files are written to; it is created (mode
// 0700) if it does not exist. Default: the GLASSBOX_FILE_DIR environment
// variable; this option wins. New fails when neither names a directory.
func WithDir(dir string) Option { return optionFunc(func(c *config) { c.dir = dir }) }

// WithMaxBytes sets the size at which a file is rotated: the active file
// is renamed with a timestamp and a new one started. A document is never
// split; one larger than n gets a file of its own. Default 64 MiB.
func WithMaxBytes(n int64) Option { return optionFunc(func(c *config) { c.maxBytes = n }) }

// WithMaxFiles sets how many files of each stream (logs, traces) are kept,
// the active one included; the oldest rotated files are removed beyond it.
// Disk use is bounded by about 2 × n × WithMaxBytes. Default 4.
func WithMaxFiles(n int) Option { return optionFunc(func(c *config) { c.maxFiles = n }) }

// WithQueueBytes bounds the memory held by documents not yet written. When
// it is full (the disk slower than the program logs), the newest document
// is dropped and counted in Stats.Dropped.QueueFull: a write never waits
// for the disk. Default 8 MiB.
func WithQueueBytes(n int64) Option { return optionFunc(func(c *config) { c.queueBytes = n }) }

// WithService sets the service identity: its dataset and namespace name
// the files (logs-<dataset>-<namespace>.ndjson), and span documents carry
// its service fields. Default: log.Service{}.Fill() (dataset "generic",
// namespace "default"); glassbox.Start passes its own.
func WithService(s log.Service) Option { return optionFunc(func(c *config) { c.service = s }) }

// WithRedactor sets the redaction list applied to span attributes, as the
// Elasticsearch exporter does (log documents arrive redacted by the log
// handler). Default: log.NewRedactor(), the default list; glassbox.Start
// passes its own.
func WithRedactor(r *log.Redactor) Option { return optionFunc(func(c *config) { c.redactor = r }) }

// WithErrorHandler receives background failures (a file that cannot be
// written, rotated or removed), at most one per second. Default: one line
// on os.Stderr.
func WithErrorHandler(h otel.ErrorHandler) Option {
	return optionFunc(func(c *config) { c.errorHandler = h })
}

// WithMeterProvider publishes Stats as OpenTelemetry metrics on mp, the
// glassbox.exporter.* instruments with glassbox.exporter="file":
// produced, delivered (written), dropped (by glassbox.reason: queue_full,
// write_failed, shutdown), and the current in_flight and queue.size
// (bytes). Each collection reads Stats; after Shutdown they report the
// final figures. glassbox.Start passes its MeterProvider when a metrics
// exporter is configured. Default: none.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) { c.meter = mp })
}
