package log

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// flightItem is one kept record: what slog.Record.Clone would keep, with
// the attributes in the buffer's shared slice and the time as seconds
// and nanoseconds (words the garbage collector need not look at), plus
// the scope it was logged in.
type flightItem struct {
	msg    string
	sec    int64
	nsec   int32
	level  slog.Level
	pc     uintptr
	scope  int32 // scopes[scope] of the buffer
	a0, a1 int32 // attrs[a0:a1] of the buffer
	size   int32 // estimated bytes
}

// flightScope is the handler that received a record (its WithAttrs and
// groups) and the context it was logged with (the IDs it carries, the
// sinks' request state). Consecutive records of a request mostly share
// one.
type flightScope struct {
	h   *Handler
	ctx context.Context
}

// flightBuf holds a Flight's records oldest first: items[head:] are live,
// their attributes in attrs and their scopes in scopes (both in the
// items' order).
// Buffers are pooled; a Flight takes one with its first record and gives
// it back when it ends.
type flightBuf struct {
	items  []flightItem
	head   int
	attrs  []slog.Attr
	scopes []flightScope
}

func (b *flightBuf) len() int { return len(b.items) - b.head }

// Largest buffers returned to the pool: a request that kept hundreds of
// records should not pin their slices for the next one.
const (
	maxPooledItems = 64
	maxPooledAttrs = 256
)

var flightBufPool = sync.Pool{New: func() any {
	return &flightBuf{items: make([]flightItem, 0, 16), attrs: make([]slog.Attr, 0, 32), scopes: make([]flightScope, 0, 4)}
}}

// Sizes the estimate of a record's bytes is made of.
const (
	itemBytes = int64(unsafe.Sizeof(flightItem{}) + unsafe.Sizeof(flightScope{}))
	attrBytes = int64(unsafe.Sizeof(slog.Attr{}))
	// anyBytes stands for what a value of another kind (a pointer, a
	// struct, a LogValuer not resolved) keeps alive: unknown without
	// walking it, which would cost more than the record.
	anyBytes = 64
)

// attrSize estimates the bytes an attribute holds: its bookkeeping, its
// key, and its value (a string by length, a group member by member).
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

// reserveStep is how much of the recorder's memory cap a Flight reserves
// at a time: the shared counter is touched once per step, not per record.
const reserveStep = 4 << 10

// keep adds a below-level record to the Flight, within its bounds and
// the recorder's cap, or writes it at once when the request has failed.
func (fl *Flight) keep(h *Handler, ctx context.Context, rec *slog.Record) {
	r := fl.rec
	if r.maxRecords == 0 {
		return // a recorder that carries levels only
	}
	fl.mu.Lock()
	if fl.sealed.Load() {
		fl.mu.Unlock()
		r.records.Add(1)
		r.late.Add(1)
		return
	}
	fl.counts.records++
	if fl.failed {
		fl.counts.replayed++
		fl.mu.Unlock()
		_ = h.handle(ctx, *rec, true)
		return
	}
	if fl.buf == nil {
		fl.buf = flightBufPool.Get().(*flightBuf)
	}
	b := fl.buf
	size := b.push(h, ctx, rec)
	if size > r.maxBytes {
		b.popNewest()
		fl.counts.overRequest++
		fl.mu.Unlock()
		return
	}
	// The oldest records make room within the Flight's bounds; the cap is
	// checked first, so that a record that cannot be kept pushes nothing
	// out for nothing.
	evict, freed := b.room(fl.size, size, r.maxRecords, r.maxBytes)
	if need := fl.size - freed + size - fl.reserved; need > 0 {
		step := min(max(need, reserveStep), r.maxBytes-fl.reserved)
		if !r.reserve(step) {
			if step == need || !r.reserve(need) {
				b.popNewest()
				fl.counts.overMemory++
				fl.mu.Unlock()
				return
			}
			step = need
		}
		fl.reserved += step
	}
	for range evict {
		b.dropOldest()
	}
	fl.size += size - freed
	fl.counts.overRequest += uint64(evict)
	fl.mu.Unlock()
}

// reserve adds size to the bytes reserved unless that would pass the cap.
func (r *FlightRecorder) reserve(size int64) bool {
	for {
		cur := r.reserved.Load()
		if cur+size > r.maxMemory {
			return false
		}
		if r.reserved.CompareAndSwap(cur, cur+size) {
			return true
		}
	}
}

// push appends a record, its attributes copied into the shared slice, and
// returns its estimated size: the bookkeeping, the message, and each
// attribute.
func (b *flightBuf) push(h *Handler, ctx context.Context, rec *slog.Record) int64 {
	a0 := len(b.attrs)
	size := itemBytes + int64(len(rec.Message))
	rec.Attrs(func(a slog.Attr) bool {
		b.attrs = append(b.attrs, a)
		switch a.Value.Kind() {
		case slog.KindString:
			size += attrBytes + int64(len(a.Key)+len(a.Value.String()))
		case slog.KindGroup, slog.KindAny, slog.KindLogValuer:
			size += attrSize(a, 0)
		default: // numbers, times, durations: held in the Attr itself
			size += attrBytes + int64(len(a.Key))
		}
		return true
	})
	if n := len(b.scopes); n == 0 || b.scopes[n-1].h != h || !sameContext(b.scopes[n-1].ctx, ctx) {
		b.scopes = append(b.scopes, flightScope{h: h, ctx: ctx})
	}
	b.items = append(b.items, flightItem{
		msg: rec.Message, sec: rec.Time.Unix(), nsec: int32(rec.Time.Nanosecond()), level: rec.Level, pc: rec.PC,
		scope: int32(len(b.scopes) - 1), a0: int32(a0), a1: int32(len(b.attrs)), size: int32(min(size, 1<<31-1)),
	})
	return size
}

// time returns the record's time. A zero time comes back zero (IsZero).
func (it *flightItem) time() time.Time { return time.Unix(it.sec, int64(it.nsec)) }

// popNewest removes the record push added last, and its scope when no
// other record has it.
func (b *flightBuf) popNewest() {
	it := &b.items[len(b.items)-1]
	clear(b.attrs[it.a0:])
	b.attrs = b.attrs[:it.a0]
	if n := len(b.items); n-1 == b.head || b.items[n-2].scope != it.scope {
		b.scopes[it.scope] = flightScope{}
		b.scopes = b.scopes[:it.scope]
	}
	*it = flightItem{}
	b.items = b.items[:len(b.items)-1]
}

// room returns how many of the oldest records must go, and the bytes
// they free, for the newest (size bytes, already pushed) to fit within
// maxRecords and maxBytes, the older ones holding held bytes.
func (b *flightBuf) room(held, size int64, maxRecords int, maxBytes int64) (n int, freed int64) {
	for i := b.head; i < len(b.items)-1; i++ {
		if len(b.items)-b.head-n <= maxRecords && held-freed+size <= maxBytes {
			break
		}
		freed += int64(b.items[i].size)
		n++
	}
	return n, freed
}

// dropOldest removes the oldest record. Once the dead front is half the
// buffer, the live part moves down.
func (b *flightBuf) dropOldest() {
	it := &b.items[b.head]
	clear(b.attrs[it.a0:it.a1])
	*it = flightItem{}
	b.head++
	if b.head >= 16 && 2*b.head >= len(b.items) {
		b.compact()
	}
}

// compact moves the live records, their attributes and their scopes to
// the front.
func (b *flightBuf) compact() {
	live := b.items[b.head:]
	base, sbase := int32(len(b.attrs)), int32(len(b.scopes))
	if len(live) > 0 {
		base, sbase = live[0].a0, live[0].scope
	}
	n := copy(b.attrs, b.attrs[base:])
	clear(b.attrs[n:])
	b.attrs = b.attrs[:n]
	n = copy(b.scopes, b.scopes[sbase:])
	clear(b.scopes[n:])
	b.scopes = b.scopes[:n]
	for i := range live {
		live[i].a0 -= base
		live[i].a1 -= base
		live[i].scope -= sbase
	}
	m := copy(b.items, live)
	clear(b.items[m:])
	b.items = b.items[:m]
	b.head = 0
}

// detached is what a Flight gives up when it fails or ends: its buffer,
// its reservation under the cap, and its counts.
type detached struct {
	buf      *flightBuf
	reserved int64
	counts   flightCounts
}

// detach takes the Flight's records, reservation and counts away from
// it, for replay or release outside the lock. fl.mu must be held.
func (fl *Flight) detach() detached {
	d := detached{buf: fl.buf, reserved: fl.reserved, counts: fl.counts}
	fl.buf, fl.size, fl.reserved, fl.counts = nil, 0, 0, flightCounts{}
	return d
}

// replay writes the records of d, oldest first, each through the handler
// that received it, with its context, marked as replayed; then releases
// d.
func (r *FlightRecorder) replay(d detached) {
	if b := d.buf; b != nil {
		for i := b.head; i < len(b.items); i++ {
			it := &b.items[i]
			rec := slog.NewRecord(it.time(), it.level, it.msg, it.pc)
			rec.AddAttrs(b.attrs[it.a0:it.a1]...)
			sc := &b.scopes[it.scope]
			_ = sc.h.handle(sc.ctx, rec, true)
		}
		d.counts.replayed += uint64(b.len())
	}
	r.release(d)
}

// discard drops the records of d unencoded and releases d.
func (r *FlightRecorder) discard(d detached) {
	if d.buf != nil {
		d.counts.discarded += uint64(d.buf.len())
	}
	r.release(d)
}

// release adds d's counts to the recorder's, gives back its reservation,
// and its buffer to the pool (emptied, so that it keeps nothing alive).
func (r *FlightRecorder) release(d detached) {
	c := &d.counts
	for _, x := range []struct {
		n   uint64
		ctr *atomic.Uint64
	}{{c.records, &r.records}, {c.replayed, &r.replayed}, {c.discarded, &r.discarded}, {c.overRequest, &r.overRequest}, {c.overMemory, &r.overMemory}} {
		if x.n > 0 {
			x.ctr.Add(x.n)
		}
	}
	if d.reserved != 0 {
		r.reserved.Add(-d.reserved)
	}
	buf := d.buf
	if buf == nil {
		return
	}
	clear(buf.items)
	clear(buf.attrs)
	clear(buf.scopes)
	if cap(buf.items) > maxPooledItems || cap(buf.attrs) > maxPooledAttrs || cap(buf.scopes) > maxPooledItems {
		return
	}
	buf.items, buf.attrs, buf.scopes, buf.head = buf.items[:0], buf.attrs[:0], buf.scopes[:0], 0
	flightBufPool.Put(buf)
}
