package elasticsearch

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// health tracks whether Elasticsearch can be reached. When a request gets
// no answer at all (refused, reset, timed out, not Elasticsearch), the
// cluster is marked unreachable: every sender then waits (without a
// spool) or spools, instead of each retrying on its own backoff, and one
// prober checks with a cheap HEAD / at most every probeMax (1 s). The
// first probe that gets an answer wakes them all, so delivery resumes
// within about a probe interval of the cluster answering again, however
// long the outage was.
//
// Error answers (429, 5xx) are backpressure, not absence: those retries
// back off exponentially (WithBackoff), but a wait after a whole request
// failed ends early when another request succeeds (nextSuccess).
type health struct {
	down   atomic.Bool
	mu     sync.Mutex
	up     chan struct{} // while down: closed when reachable again
	kick   chan struct{} // wakes the prober
	ok     chan struct{} // closed at the next success, when someone waits for it
	waitOK atomic.Bool
}

func (h *health) init() { h.kick = make(chan struct{}, 1) }

// reachable returns nil when the cluster is taken to be reachable, else a
// channel closed when it is again.
func (h *health) reachable() <-chan struct{} {
	if !h.down.Load() {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.up
}

// markDown records that a request got no answer and wakes the prober.
func (h *health) markDown() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.up != nil {
		return
	}
	h.up = make(chan struct{})
	h.down.Store(true)
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

// markUp records that a probe got an answer and wakes the waiting senders.
func (h *health) markUp() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.up == nil {
		return
	}
	close(h.up)
	h.up = nil
	h.down.Store(false)
}

// nextSuccess returns a channel closed when a bulk request next succeeds.
func (h *health) nextSuccess() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ok == nil {
		h.ok = make(chan struct{})
	}
	h.waitOK.Store(true)
	return h.ok
}

// succeeded records a successful bulk request (cheap when nobody waits).
func (h *health) succeeded() {
	if !h.waitOK.Load() {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ok != nil {
		close(h.ok)
		h.ok = nil
	}
	h.waitOK.Store(false)
}

// probeTimeout bounds one probe.
const probeTimeout = 10 * time.Second

// prober probes the cluster while it is unreachable, until the workers
// are done (e.ctx is canceled after them).
func (e *Exporter) prober() {
	defer e.probeWG.Done()
	for {
		select {
		case <-e.health.kick:
		case <-e.ctx.Done():
			return
		}
		for attempt := 1; e.health.down.Load(); attempt++ {
			t, stop := e.cfg.clock.after(e.probeDelay(attempt))
			select {
			case <-t:
			case <-e.ctx.Done():
				stop()
				return
			}
			ctx, cancel := context.WithTimeout(e.ctx, min(e.cfg.timeout, probeTimeout))
			err := e.cluster.probe(ctx)
			cancel()
			if err == nil {
				e.health.markUp()
			}
		}
	}
}

// probeDelay is the wait before probe attempt (1-based): growing from
// the minimum backoff to the probe cap, min(probeMax, backoff max), with
// equal jitter (never less than half).
func (e *Exporter) probeDelay(attempt int) time.Duration {
	limit := e.probeCap()
	d := e.cfg.backoffMin
	for i := 1; i < attempt && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// probeCap is the longest wait between two probes.
func (e *Exporter) probeCap() time.Duration { return min(e.cfg.probeMax, e.cfg.backoffMax) }

// clock is where the waits for retries and probes come from, so that a
// test can control them.
type clock interface {
	now() time.Time
	// after returns a channel that receives after d, and a func that
	// releases the timer early.
	after(d time.Duration) (<-chan time.Time, func())
}

type realClock struct{}

func (realClock) now() time.Time { return time.Now() }

func (realClock) after(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTimer(d)
	return t.C, func() { t.Stop() }
}
