package otlp

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// exportPolicy is what this package adds around one export of the SDK's
// exporters: the timeout bounds the whole export, retries included (the
// SDK's gRPC exporters do that already; its HTTP exporters bound each
// attempt only), and a collector that cannot be reached is retried over
// HTTP as over gRPC (the SDK's HTTP exporters give up at once on a refused
// connection, as the OTLP specification says they should not).
type exportPolicy struct {
	timeout time.Duration
	retry   RetryConfig
	onRetry func(error)
}

func newExportPolicy(c config) exportPolicy {
	p := exportPolicy{timeout: c.timeout, retry: *c.retry, onRetry: c.onRetry}
	def := defaultRetry()
	if p.retry.InitialInterval <= 0 {
		p.retry.InitialInterval = def.InitialInterval
	}
	if p.retry.MaxInterval <= 0 {
		p.retry.MaxInterval = def.MaxInterval
	}
	return p
}

// run calls attempt until it succeeds, fails in a way that is not a
// connection failure, or the policy gives up: retrying is off, the next
// wait would pass MaxElapsedTime, or the timeout ends the export.
func (p exportPolicy) run(ctx context.Context, attempt func(context.Context) error) error {
	if p.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.timeout)
		defer cancel()
	}
	start := time.Now()
	interval := p.retry.InitialInterval
	for n := 1; ; n++ {
		err := attempt(ctx)
		if err == nil || !p.retry.Enabled || !cannotConnect(err) {
			return err
		}
		wait := jitter(interval)
		if p.retry.MaxElapsedTime > 0 && time.Since(start)+wait > p.retry.MaxElapsedTime {
			return fmt.Errorf("collector unreachable after %d attempts (retry time exhausted): %w", n, err)
		}
		if p.onRetry != nil {
			p.onRetry(err)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("collector unreachable after %d attempts (%w): %w", n, ctx.Err(), err)
		}
		interval = min(interval*3/2, p.retry.MaxInterval)
	}
}

// cannotConnect reports whether err is a failure to connect to the
// collector (refused, unreachable, name not resolved, dial timeout).
func cannotConnect(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// jitter spreads d by ±50 %, as the SDK's backoff does, so that many
// processes do not retry in step.
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d+1)
}

// spanExporter is the SDK's span exporter under an exportPolicy.
type spanExporter struct {
	next   sdktrace.SpanExporter
	policy exportPolicy
}

var _ sdktrace.SpanExporter = (*spanExporter)(nil)

func (e *spanExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	return e.policy.run(ctx, func(ctx context.Context) error { return e.next.ExportSpans(ctx, spans) })
}

func (e *spanExporter) Shutdown(ctx context.Context) error { return e.next.Shutdown(ctx) }

// logExporter is the SDK's log exporter under an exportPolicy.
type logExporter struct {
	next   sdklog.Exporter
	policy exportPolicy
}

var _ sdklog.Exporter = (*logExporter)(nil)

func (e *logExporter) Export(ctx context.Context, records []sdklog.Record) error {
	return e.policy.run(ctx, func(ctx context.Context) error { return e.next.Export(ctx, records) })
}

func (e *logExporter) Shutdown(ctx context.Context) error   { return e.next.Shutdown(ctx) }
func (e *logExporter) ForceFlush(ctx context.Context) error { return e.next.ForceFlush(ctx) }
