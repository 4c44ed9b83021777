package elasticsearch

import (
	"bytes"
	"time"
)

// batch is one bulk body under construction or in flight: NDJSON
// action/document line pairs, with the offset of each item.
type batch struct {
	buf    []byte
	offs   []int
	bytes  int64  // queue bytes accounted to this batch
	gen    uint64 // Flush generation; 0 for replayed batches
	first  time.Time
	replay bool        // read back from the spool
	whole  bool        // a batch as the queue made it: every item of its journal, none repaired
	j      *journalRef // SpoolAlways: the journal holding its items (shared by its parts)
}

func (b *batch) n() int { return len(b.offs) }

func (b *batch) item(i int) []byte {
	end := len(b.buf)
	if i+1 < len(b.offs) {
		end = b.offs[i+1]
	}
	return b.buf[b.offs[i]:end]
}

// appendItem appends one action/document line pair.
func (b *batch) appendItem(item []byte) {
	b.offs = append(b.offs, len(b.buf))
	b.buf = append(b.buf, item...)
}

// appendItems appends a run of line pairs (a spool record's payload).
func (b *batch) appendItems(p []byte) {
	base := len(b.buf)
	b.buf = append(b.buf, p...)
	for _, o := range itemOffsets(p) {
		b.offs = append(b.offs, base+o)
	}
}

// fit moves the items of a batch sealed less than half full into a
// buffer of their size. A batch is allocated with the flush size's
// capacity, and the flusher seals it however little it holds: without
// this, the batches of a quiet service waiting out an outage would hold
// a flush size each while the queue cap counts only their bytes.
func (b *batch) fit() {
	if len(b.buf) >= cap(b.buf)/2 {
		return
	}
	b.buf = append(make([]byte, 0, len(b.buf)), b.buf...)
}

// getBatch takes a batch from the free list (e.mu held). A free list
// rather than a sync.Pool: the pool is emptied at every GC, and batches are
// large, so a pool would re-allocate one per flush.
func (e *Exporter) getBatch() *batch {
	if n := len(e.free); n > 0 {
		b := e.free[n-1]
		e.free[n-1] = nil
		e.free = e.free[:n-1]
		return b
	}
	return &batch{buf: make([]byte, 0, e.cfg.flushBytes+e.cfg.flushBytes/8)}
}

// putBatch returns a batch to the free list; it keeps enough for the
// workers, the open batch and a few ready ones (at most what the queue
// bound allows).
func (e *Exporter) putBatch(b *batch) {
	if b.replay || cap(b.buf) > 4*e.cfg.flushBytes+64<<10 || cap(b.buf) < e.cfg.flushBytes {
		return // too large to keep, or fitted (see fit): reuse only full-size buffers
	}
	b.buf, b.offs, b.bytes, b.first, b.gen = b.buf[:0], b.offs[:0], 0, time.Time{}, 0
	b.whole, b.j = false, nil
	e.mu.Lock()
	if len(e.free) < e.maxFree {
		e.free = append(e.free, b)
	}
	e.mu.Unlock()
}

// subset copies items [from,to) of b, or the items listed in idx, into a
// new batch.
func (e *Exporter) subset(b *batch, from, to int, idx []int) *batch {
	nb := &batch{first: b.first, replay: b.replay}
	if idx != nil {
		for _, i := range idx {
			nb.appendItem(b.item(i))
		}
	} else {
		for i := from; i < to; i++ {
			nb.appendItem(b.item(i))
		}
	}
	return nb
}

// replaceBatch moves b's queue accounting, Flush generation and journal
// reference to its parts, and releases b.
func (e *Exporter) replaceBatch(b *batch, parts ...*batch) {
	if b.replay {
		return
	}
	e.mu.Lock()
	for _, p := range parts {
		p.bytes = int64(len(p.buf))
		e.queued += p.bytes
		if b.gen != 0 {
			p.gen = b.gen
			e.pending[p.gen]++
		}
		if b.j != nil {
			p.j = b.j
			b.j.refs++
		}
	}
	e.mu.Unlock()
	e.release(b)
}

// joinBatches concatenates replayed batches (what is left of a replay).
func joinBatches(bs ...*batch) *batch {
	if len(bs) == 1 {
		return bs[0]
	}
	out := &batch{replay: true}
	for _, b := range bs {
		for i := 0; i < b.n(); i++ {
			out.appendItem(b.item(i))
		}
	}
	return out
}

// itemOffsets finds the start of each action/document line pair.
func itemOffsets(p []byte) []int {
	var offs []int
	line := 0
	for off := 0; off < len(p); {
		if line%2 == 0 {
			offs = append(offs, off)
		}
		nl := bytes.IndexByte(p[off:], '\n')
		if nl < 0 {
			break
		}
		off += nl + 1
		line++
	}
	return offs
}
