package log

import (
	"context"
	"log/slog"
	"sync"
	"time"
	"unsafe"
)

// flightItem is one kept record: what slog.Record.Clone would keep, with
// the attributes in the buffer's shared slice, plus the handler that
// received it (its WithAttrs and groups) and the context it was logged
// with (the IDs it carries, the sinks' request state).
type flightItem struct {
	h      *Handler
	ctx    context.Context
	t      time.Time
	msg    string
	pc     uintptr
	level  slog.Level
	a0, a1 int32 // attrs[a0:a1] of the buffer
	size   int32 // estimated bytes
}

// flightBuf holds a Flight's records oldest first: items[head:] are live,
// their attributes in attrs. Buffers are pooled; a Flight takes one with
// its first record and gives it back when it ends.
type flightBuf struct {
	items []flightItem
	head  int
	attrs []slog.Attr
}

func (b *flightBuf) len() int { return len(b.items) - b.head }

// Largest buffers returned to the pool: a request that kept hundreds of
// records should not pin their slices for the next one.
const (
	maxPooledItems = 64
	maxPooledAttrs = 256
)

var flightBufPool = sync.Pool{New: func() any {
	return &flightBuf{items: make([]flightItem, 0, 16), attrs: make([]slog.Attr, 0, 32)}
}}

// Sizes the estimate of a record's bytes is made of.
const (
	itemBytes = int64(unsafe.Sizeof(flightItem{}))
	attrBytes = int64(unsafe.Sizeof(slog.Attr{}))
	// anyBytes stands for what a value of another kind (a pointer, a
	// struct, a LogValuer not resolved) keeps alive: unknown without
	// walking it, which would cost more than the record.
	anyBytes = 64
)

// recordSize estimates the bytes a kept record holds: the bookkeeping,
// the message, and each attribute's key and value (strings by length,
// groups member by member).
func recordSize(r *slog.Record) int64 {
	n := itemBytes + int64(len(r.Message))
	r.Attrs(func(a slog.Attr) bool {
		n += attrSize(a, 0)
		return true
	})
	return n
}

func attrSize(a slog.Attr, depth int) int64 {
	n := attrBytes + int64(len(a.Key))
	switch a.Value.Kind() {
	case slog.KindString:
		n += int64(len(a.Value.String()))
	case slog.KindGroup:
		if depth >= 8 {
			return n + anyBytes
		}
		for _, ga := range a.Value.Group() {
			n += attrSize(ga, depth+1)
		}
	case slog.KindAny, slog.KindLogValuer:
		n += anyBytes
	}
	return n
}

// intercept routes r when the handler's flight recorder has a say: a
// record below the level goes to its context's Flight (kept, written at
// once when the request has failed or the Flight's level admits it, or
// dropped when the Flight has ended); a record at slog.LevelError or above
// first replays what the Flight kept. It reports whether r was dealt with
// (Handle then returns), false when Handle must write it as usual.
func (r *FlightRecorder) intercept(h *Handler, ctx context.Context, rec *slog.Record) bool {
	// A below-level record only gets here when Enabled let it through,
	// for a Flight's context (or when Handle is called directly): the
	// lookup is worth it. Other records pass on one comparison.
	below := rec.Level < h.core.level.Level()
	if !below && (rec.Level < slog.LevelError || r.open.Load() == 0) {
		return false
	}
	fl := FlightFrom(ctx)
	if fl == nil || fl.rec != r {
		return false
	}
	if !below {
		fl.Fail()
		return false
	}
	if int64(rec.Level) >= fl.level.Load() && !fl.sealed.Load() {
		return false // a break-glass request: written as usual
	}
	fl.keep(h, ctx, rec)
	return true
}

// keep adds a below-level record to the Flight, within its bounds and
// the recorder's cap, or writes it at once when the request has failed.
func (fl *Flight) keep(h *Handler, ctx context.Context, rec *slog.Record) {
	r := fl.rec
	if r.maxRecords == 0 {
		return // a recorder that carries levels only
	}
	r.records.Add(1)
	size := recordSize(rec)
	fl.mu.Lock()
	switch {
	case fl.sealed.Load():
		fl.mu.Unlock()
		r.late.Add(1)
		return
	case fl.failed:
		fl.mu.Unlock()
		r.replayed.Add(1)
		_ = h.handle(ctx, *rec, true)
		return
	case size > r.maxBytes:
		fl.mu.Unlock()
		r.overRequest.Add(1)
		return
	}
	// The cap first: a record that cannot be kept must not push others
	// out for nothing. Reserving before the room is made errs on the safe
	// side of the cap.
	if !r.reserve(size) {
		fl.mu.Unlock()
		r.overMemory.Add(1)
		return
	}
	if fl.buf == nil {
		fl.buf = flightBufPool.Get().(*flightBuf)
	}
	b := fl.buf
	// Make room within the Flight's bounds, oldest first.
	var evicted, freed int64
	for b.len() > 0 && (b.len() >= r.maxRecords || fl.size+size > r.maxBytes) {
		d := b.dropOldest()
		freed += d
		fl.size -= d
		evicted++
	}
	b.push(h, ctx, rec, size)
	fl.size += size
	r.heldSize.Add(-freed)
	r.held.Add(1 - evicted)
	fl.mu.Unlock()
	r.overRequest.Add(uint64(evicted))
}

// reserve adds size to the bytes held unless that would pass the cap.
func (r *FlightRecorder) reserve(size int64) bool {
	for {
		cur := r.heldSize.Load()
		if cur+size > r.maxMemory {
			return false
		}
		if r.heldSize.CompareAndSwap(cur, cur+size) {
			return true
		}
	}
}

// push appends a record, its attributes copied into the shared slice.
func (b *flightBuf) push(h *Handler, ctx context.Context, rec *slog.Record, size int64) {
	a0 := len(b.attrs)
	rec.Attrs(func(a slog.Attr) bool {
		b.attrs = append(b.attrs, a)
		return true
	})
	b.items = append(b.items, flightItem{
		h: h, ctx: ctx, t: rec.Time, msg: rec.Message, pc: rec.PC, level: rec.Level,
		a0: int32(a0), a1: int32(len(b.attrs)), size: int32(size),
	})
}

// dropOldest removes the oldest record and returns its size. Once the
// dead front is half the buffer, the live part moves down.
func (b *flightBuf) dropOldest() int64 {
	it := &b.items[b.head]
	size := int64(it.size)
	clear(b.attrs[it.a0:it.a1])
	*it = flightItem{}
	b.head++
	if b.head >= 16 && 2*b.head >= len(b.items) {
		b.compact()
	}
	return size
}

// compact moves the live records and their attributes to the front.
func (b *flightBuf) compact() {
	live := b.items[b.head:]
	base := int32(len(b.attrs))
	if len(live) > 0 {
		base = live[0].a0
	}
	n := copy(b.attrs, b.attrs[base:])
	clear(b.attrs[n:])
	b.attrs = b.attrs[:n]
	for i := range live {
		live[i].a0 -= base
		live[i].a1 -= base
	}
	m := copy(b.items, live)
	clear(b.items[m:])
	b.items = b.items[:m]
	b.head = 0
}

// detach takes the Flight's buffer away from it, with its size, for
// replay or release outside the lock. fl.mu must be held.
func (fl *Flight) detach() (*flightBuf, int64) {
	buf, size := fl.buf, fl.size
	fl.buf, fl.size = nil, 0
	return buf, size
}

// replay writes the records of buf, oldest first, each through the
// handler that received it, with its context, marked as replayed; then
// releases buf.
func (r *FlightRecorder) replay(buf *flightBuf, size int64) {
	if buf == nil {
		return
	}
	n := int64(buf.len())
	for i := buf.head; i < len(buf.items); i++ {
		it := &buf.items[i]
		rec := slog.NewRecord(it.t, it.level, it.msg, it.pc)
		rec.AddAttrs(buf.attrs[it.a0:it.a1]...)
		_ = it.h.handle(it.ctx, rec, true)
	}
	r.replayed.Add(uint64(n))
	r.release(buf, n, size)
}

// release gives back the memory buf's n records of size bytes held, and
// the buffer itself to the pool (emptied, so that it keeps nothing alive).
func (r *FlightRecorder) release(buf *flightBuf, n, size int64) {
	r.held.Add(-n)
	r.heldSize.Add(-size)
	clear(buf.items)
	clear(buf.attrs)
	if cap(buf.items) > maxPooledItems || cap(buf.attrs) > maxPooledAttrs {
		return
	}
	buf.items, buf.attrs, buf.head = buf.items[:0], buf.attrs[:0], 0
	flightBufPool.Put(buf)
}
