package elasticsearch

import (
	"errors"
	"sync"
	"time"
)

// queue is the memory queue: the open batch that Write appends to, the
// sealed batches waiting for a worker, and the byte bound over everything
// not yet settled (in flight and waiting for retries included).
type queue struct {
	mu      sync.Mutex
	work    *sync.Cond // a batch is ready, or closing
	space   *sync.Cond // queue space was released, or closing
	cur     *batch
	ready   []*batch
	queued  int64
	closing bool
	free    []*batch // reusable batches
	maxFree int
	// Flush bookkeeping: every queued batch carries the generation of the
	// open batch it came from (its parts after a split or a partial retry
	// keep it); pending counts the unsettled batches per generation, and a
	// Flush waits only for the generations that existed when it began.
	gen      uint64
	pending  map[uint64]int
	flushers []flushWaiter
}

func (q *queue) init(cfg *config) {
	q.work = sync.NewCond(&q.mu)
	q.space = sync.NewCond(&q.mu)
	q.pending = make(map[uint64]int)
	q.maxFree = cfg.concurrency + 2 + min(8, int(cfg.queueBytes/int64(cfg.flushBytes)))
}

// enqueue appends one item (action line + document) to the open batch.
// id nil means a new client ID. doc is one complete NDJSON line (see
// log.Entry.Doc; span documents follow the same rules); a missing final
// '\n' is added. In SpoolAlways mode the item is in the batch's journal
// when enqueue returns.
func (e *Exporter) enqueue(action string, id []byte, doc []byte) {
	size := int64(len(action) + 32 + len(id) + len(doc) + 8)
	e.st.produced.Add(1)
	e.mu.Lock()
	if !e.reserve(size) {
		e.mu.Unlock()
		return
	}
	b := e.cur
	if b == nil {
		b = e.openBatch()
	}
	start := len(b.buf)
	b.offs = append(b.offs, start)
	b.buf = append(b.buf, action...)
	if id == nil {
		b.buf = e.appendID(b.buf)
	} else {
		b.buf = append(b.buf, id...)
	}
	b.buf = append(b.buf, "\"}}\n"...)
	b.buf = append(b.buf, doc...)
	if len(doc) == 0 || doc[len(doc)-1] != '\n' {
		b.buf = append(b.buf, '\n')
	}
	e.journal(b, b.buf[start:])
	e.st.inflight.Add(1)
	added := int64(len(b.buf) - start)
	b.bytes += added
	e.queued += added
	if len(b.buf) >= e.cfg.flushBytes {
		e.ready = append(e.ready, b)
		e.cur = nil
		e.work.Signal()
	}
	e.mu.Unlock()
}

// reserve waits (with Block) or reports whether size more bytes fit the
// queue; a record that does not is counted as dropped (e.mu held).
func (e *Exporter) reserve(size int64) bool {
	for {
		if e.closing {
			e.st.droppedShutdown.Add(1)
			return false
		}
		if e.queued+size <= e.cfg.queueBytes {
			return true
		}
		if !e.cfg.block || size > e.cfg.queueBytes {
			e.st.droppedQueueFull.Add(1)
			e.report(errQueueFull)
			return false
		}
		// Hand the open batch to the workers rather than wait for the
		// flush interval: its bytes are what would free the space.
		if e.cur != nil && e.cur.n() > 0 {
			e.ready = append(e.ready, e.cur)
			e.cur = nil
			e.work.Signal()
		}
		e.space.Wait()
	}
}

// openBatch starts a new open batch of a new Flush generation, with its
// journal in SpoolAlways mode (e.mu held).
func (e *Exporter) openBatch() *batch {
	b := e.getBatch()
	e.gen++
	b.gen = e.gen
	b.whole = true
	e.pending[b.gen]++
	e.newJournal(b)
	e.cur = b
	return b
}

var errQueueFull = errors.New("elasticsearch: queue full, newest record dropped")

// release returns a batch's queue bytes, settles it for Flush and drops
// its journal reference (deleting the journal with its last one).
func (e *Exporter) release(b *batch) {
	e.mu.Lock()
	e.queued -= b.bytes
	b.bytes = 0
	if b.gen != 0 {
		if e.pending[b.gen]--; e.pending[b.gen] <= 0 {
			delete(e.pending, b.gen)
			e.wakeFlushers()
		}
		b.gen = 0
	}
	j := e.unrefJournal(b)
	e.space.Broadcast()
	e.mu.Unlock()
	e.discardJournal(j)
	e.putBatch(b)
}

func (e *Exporter) flusher() {
	defer e.wg.Done()
	t := time.NewTicker(e.cfg.interval)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
			e.seal()
		}
	}
}

// seal moves the open batch to the ready list, fitted to its contents.
func (e *Exporter) seal() {
	e.mu.Lock()
	if e.cur != nil && e.cur.n() > 0 {
		e.cur.fit()
		e.ready = append(e.ready, e.cur)
		e.cur = nil
		e.work.Signal()
	}
	e.mu.Unlock()
}

// next waits for a ready batch; nil once closing and nothing is left.
func (e *Exporter) next() *batch {
	e.mu.Lock()
	defer e.mu.Unlock()
	for len(e.ready) == 0 {
		if e.closing {
			if e.cur != nil && e.cur.n() > 0 {
				e.ready = append(e.ready, e.cur)
				e.cur = nil
				continue
			}
			return nil
		}
		e.work.Wait()
	}
	b := e.ready[0]
	e.ready[0] = nil
	e.ready = e.ready[1:]
	return b
}

// takeAll empties the queue (the open batch included), for the write-off
// at the end of a Shutdown.
func (e *Exporter) takeAll() []*batch {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.ready
	e.ready = nil
	if e.cur != nil && e.cur.n() > 0 {
		out = append(out, e.cur)
	}
	e.cur = nil
	return out
}
