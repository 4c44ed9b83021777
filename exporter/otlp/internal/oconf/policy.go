package oconf

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"time"
)

// Policy is what glassbox adds around one export of the SDK's
// exporters: the timeout bounds the whole export, retries included (the
// SDK's gRPC exporters do that already; its HTTP exporters bound each
// attempt only), and a collector that cannot be reached is retried over
// HTTP as over gRPC (the SDK's HTTP exporters give up at once on a refused
// connection, as the OTLP specification says they should not).
type Policy struct {
	timeout time.Duration
	retry   Retry
	onRetry func(error)
}

// NewPolicy returns the policy of c.
func NewPolicy(c Config) Policy {
	p := Policy{timeout: c.Timeout, retry: *c.Retry, onRetry: c.OnRetry}
	def := DefaultRetry()
	if p.retry.InitialInterval <= 0 {
		p.retry.InitialInterval = def.InitialInterval
	}
	if p.retry.MaxInterval <= 0 {
		p.retry.MaxInterval = def.MaxInterval
	}
	return p
}

// Run calls attempt until it succeeds, fails in a way that is not a
// connection failure, or the policy gives up: retrying is off, the next
// wait would pass MaxElapsedTime, or the timeout ends the export.
func (p Policy) Run(ctx context.Context, attempt func(context.Context) error) error {
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
