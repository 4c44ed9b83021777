package elasticsearch

import (
	"context"
	"math"
)

// flushWaiter is a Flush waiting for every batch of generation upTo or
// older to settle.
type flushWaiter struct {
	upTo uint64
	c    chan struct{}
}

// Flush sends everything written before it was called and waits until
// each of those records is delivered, spooled, dead-lettered or dropped, or
// ctx is done. Records written while it waits do not hold it up: under
// steady traffic it returns once the earlier ones have settled.
func (e *Exporter) Flush(ctx context.Context) error {
	e.mu.Lock()
	if e.cur != nil && e.cur.n() > 0 {
		e.ready = append(e.ready, e.cur)
		e.cur = nil
		e.work.Signal()
	}
	upTo := e.gen
	if e.oldestPending() > upTo {
		e.mu.Unlock()
		return nil
	}
	c := make(chan struct{})
	e.flushers = append(e.flushers, flushWaiter{upTo: upTo, c: c})
	e.mu.Unlock()
	select {
	case <-c:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// oldestPending is the oldest generation with an unsettled batch, or
// MaxUint64 when there is none (e.mu held). The map holds a few entries
// (bounded by the queue size over the flush size, plus splits).
func (q *queue) oldestPending() uint64 {
	oldest := uint64(math.MaxUint64)
	for g := range q.pending {
		oldest = min(oldest, g)
	}
	return oldest
}

// wakeFlushers releases the Flush calls whose batches have all settled
// (e.mu held).
func (q *queue) wakeFlushers() {
	if len(q.flushers) == 0 {
		return
	}
	oldest := q.oldestPending()
	keep := q.flushers[:0]
	for _, w := range q.flushers {
		if w.upTo < oldest {
			close(w.c)
		} else {
			keep = append(keep, w)
		}
	}
	clear(q.flushers[len(keep):])
	q.flushers = keep
}
