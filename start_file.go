package glassbox

import (
	"context"
	"fmt"
	"strings"

	"github.com/glassbox-obs/glassbox/exporter/file"
)

// fileConfig holds the local-file settings of Start: GLASSBOX_FILE_DIR,
// then the code option on top.
type fileConfig struct {
	dir  string // GLASSBOX_FILE_DIR, then WithFileDir
	opts []file.Option
}

func (c *fileConfig) loadEnv(getenv func(string) string) error {
	c.dir = strings.TrimSpace(getenv(file.EnvDir))
	return nil
}

// WithFileDir writes every log document and span, as the same ECS JSON
// documents the Elasticsearch exporter ships, to NDJSON files in dir
// (logs-<dataset>-<namespace>.ndjson and traces-<dataset>-<namespace>.ndjson,
// rotated by size; see package exporter/file), where `glassbox trace --dir`
// finds the story of a request with no backend at all. opts tune rotation
// and the queue. Default: GLASSBOX_FILE_DIR; this option wins. With
// neither, nothing is written to disk. The exporter's counters are in
// Telemetry.Stats().File.
func WithFileDir(dir string, opts ...file.Option) Option {
	return optionFunc(func(c *config) {
		c.file.dir = dir
		c.file.opts = append(c.file.opts, opts...)
	})
}

func setupFile(_ context.Context, b *builder) error {
	c := &b.cfg.file
	if c.dir == "" {
		return nil
	}
	opts := append([]file.Option{
		file.WithDir(c.dir),
		file.WithService(b.service),
		file.WithRedactor(b.redactor),
		file.WithErrorHandler(b.errorHandler),
		file.WithMeterProvider(b.meter()),
	}, c.opts...)
	exp, err := file.New(opts...)
	if err != nil {
		return fmt.Errorf("glassbox: %s: %w", file.EnvDir, err)
	}
	b.onShutdown(exp.Shutdown)
	b.sinks = append(b.sinks, exp.LogSink())
	b.spanProcessors = append(b.spanProcessors, exp.SpanProcessor())
	b.onStats(func(st *Stats) { st.File, st.Enabled.File = exp.Stats(), true })
	return nil
}
