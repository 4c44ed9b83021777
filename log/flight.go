package log

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
)

// Default bounds of a FlightRecorder.
const (
	DefaultFlightRecords = 256
	DefaultFlightBytes   = 64 << 10
	DefaultFlightMemory  = 16 << 20
)

// FlightRecorder keeps, for each request (or any unit of work) it was
// asked to Begin, the records logged below the handler's level with that
// request's context, instead of dropping them; when the request fails they
// are written, in order and with their own timestamps, before the record
// of the failure, and when it succeeds they are discarded without ever
// being encoded. It also carries the level a break-glass request is
// logged at (Flight.SetLevel).
//
// A FlightRecorder works through the handlers given it with
// WithFlightRecorder: Enabled answers true for below-level records of a
// context with an open Flight, Handle keeps them in the Flight. The
// middleware (middleware.WithFlightRecorder) begins and ends a Flight per
// request; glassbox.Start wires both when GLASSBOX_FLIGHT_RECORDER=on.
//
// Memory is bounded: per Flight by a record count and an estimate of the
// bytes the kept records hold (their attributes, strings and bookkeeping),
// the oldest records making room for newer ones; and across all open
// Flights by one cap, past which new records are not kept. Every record is
// counted once in Stats. Nothing ever blocks.
//
// A FlightRecorder is safe for concurrent use.
type FlightRecorder struct {
	maxRecords int
	maxBytes   int64
	maxMemory  int64

	open     atomic.Int64 // Flights begun and not ended
	reserved atomic.Int64 // bytes the open Flights reserved, never over maxMemory

	flights, failed, records, replayed, discarded atomic.Uint64
	overRequest, overMemory, late                 atomic.Uint64
}

// FlightOption configures a FlightRecorder.
type FlightOption interface{ applyFlight(*FlightRecorder) }

type flightOptionFunc func(*FlightRecorder)

func (f flightOptionFunc) applyFlight(r *FlightRecorder) { f(r) }

// WithFlightLimits bounds what one Flight keeps: at most records records
// and bytes bytes (estimated; see FlightRecorder). When either bound is
// reached, the oldest records make room for the new one; a record larger
// than bytes on its own is not kept. records <= 0 keeps no record at all:
// the recorder then only carries break-glass levels. bytes <= 0 means the
// default. Default: 256 records, 64 KiB. (glassbox.Start reads
// GLASSBOX_FLIGHT_RECORDER.)
func WithFlightLimits(records, bytes int) FlightOption {
	return flightOptionFunc(func(r *FlightRecorder) {
		r.maxRecords = max(records, 0)
		if bytes > 0 {
			r.maxBytes = int64(bytes)
		}
	})
}

// WithFlightMemory caps the bytes (estimated) all open Flights of the
// recorder hold together; a record that would take the total past it is
// not kept. bytes <= 0 means the default. Default: 16 MiB.
func WithFlightMemory(bytes int64) FlightOption {
	return flightOptionFunc(func(r *FlightRecorder) {
		if bytes > 0 {
			r.maxMemory = bytes
		}
	})
}

// NewFlightRecorder returns a FlightRecorder configured by opts.
func NewFlightRecorder(opts ...FlightOption) *FlightRecorder {
	r := &FlightRecorder{maxRecords: DefaultFlightRecords, maxBytes: DefaultFlightBytes, maxMemory: DefaultFlightMemory}
	for _, o := range opts {
		if o != nil {
			o.applyFlight(r)
		}
	}
	return r
}

// WithFlightRecorder routes the records below the handler's level that
// are logged with the context of an open Flight of r to that Flight (see
// FlightRecorder), and lets a Flight's level (Flight.SetLevel) lower the
// handler's for its context. Default: none; below-level records are
// dropped as slog's Enabled contract says, at the cost of one comparison.
func WithFlightRecorder(r *FlightRecorder) Option {
	return optionFunc(func(c *handlerConfig) { c.flight = r })
}

// FlightStats are a FlightRecorder's counters. Every record routed to a
// Flight is counted once, when the Flight ends (or fails), or, if it
// comes after, at once: Records = Replayed + Discarded +
// DroppedRequestLimit + DroppedMemoryCap + DroppedLate. The records of
// open Flights are not counted yet.
type FlightStats struct {
	// Flights counts the Flights begun; Open those not ended yet.
	Flights uint64
	Open    int64
	// Failed counts the Flights that ended failed (or saw an ERROR
	// record), whose records were replayed.
	Failed uint64
	// Records counts the below-level records routed to a Flight.
	Records uint64
	// Replayed counts the records written because their request failed.
	Replayed uint64
	// Discarded counts the records dropped, never encoded, because their
	// request succeeded.
	Discarded uint64
	// DroppedRequestLimit counts the records a Flight's bounds pushed out
	// (the oldest) or never took in (larger than the byte bound alone).
	DroppedRequestLimit uint64
	// DroppedMemoryCap counts the records not kept because all open
	// Flights together held the recorder's memory cap.
	DroppedMemoryCap uint64
	// DroppedLate counts the records logged with a Flight's context after
	// it ended (a goroutine that outlived its request): they are not kept
	// and, being below the level, not written.
	DroppedLate uint64
	// ReservedBytes are the bytes the open Flights reserved under the
	// memory cap (in steps of 4 KiB, at most the per-Flight byte bound
	// each): never more than the cap.
	ReservedBytes int64
}

// Stats returns the recorder's counters. A nil recorder has none.
func (r *FlightRecorder) Stats() FlightStats {
	if r == nil {
		return FlightStats{}
	}
	return FlightStats{
		Flights: r.flights.Load(), Open: r.open.Load(), Failed: r.failed.Load(),
		Records: r.records.Load(), Replayed: r.replayed.Load(), Discarded: r.discarded.Load(),
		DroppedRequestLimit: r.overRequest.Load(), DroppedMemoryCap: r.overMemory.Load(),
		DroppedLate: r.late.Load(), ReservedBytes: r.reserved.Load(),
	}
}

// flightKey is the context key of a request's Flight.
type flightKey struct{}

// Begin opens a Flight for one request and returns ctx carrying it:
// records logged with that context (or one derived from it) through a
// handler of r's, below the handler's level, go to the Flight. The caller
// must End it. A nil recorder returns ctx and a nil Flight, whose methods
// do nothing.
func (r *FlightRecorder) Begin(ctx context.Context) (context.Context, *Flight) {
	if r == nil {
		return ctx, nil
	}
	if ctx == nil {
		ctx = context.Background()
	}
	fl := &Flight{rec: r}
	r.flights.Add(1)
	r.open.Add(1)
	return context.WithValue(ctx, flightKey{}, fl), fl
}

// FlightFrom returns the Flight ctx carries, or nil (whose methods do
// nothing).
func FlightFrom(ctx context.Context) *Flight {
	if ctx == nil {
		return nil
	}
	fl, _ := ctx.Value(flightKey{}).(*Flight)
	return fl
}

// levelBias is added to a level set with SetLevel, so that a Flight's
// zero level means none.
const levelBias = int64(1) << 40

// Flight is one request's share of a FlightRecorder: the records it
// keeps, whether the request has failed, its break-glass level. Its
// methods are safe for concurrent use, and do nothing on a nil Flight.
type Flight struct {
	rec    *FlightRecorder
	sealed atomic.Bool
	level  atomic.Int64 // a break-glass level + levelBias, or 0

	mu       sync.Mutex
	failed   bool
	buf      *flightBuf // nil until the first record is kept
	size     int64      // estimated bytes of buf's records
	reserved int64      // bytes reserved under the recorder's cap
	counts   flightCounts
}

// flightCounts are a Flight's share of the recorder's counters, added to
// them when it ends or fails: one atomic add per counter and Flight
// rather than per record.
type flightCounts struct {
	records, replayed, discarded, overRequest, overMemory uint64
}

// SetLevel makes the handlers write the records of the Flight's context
// at level l and above as if l were their level, until the Flight ends.
// Records below both levels are still kept by the Flight.
func (fl *Flight) SetLevel(l slog.Level) {
	if fl != nil {
		fl.level.Store(int64(l) + levelBias)
	}
}

// Level returns the level set with SetLevel, and whether one was.
func (fl *Flight) Level() (slog.Level, bool) {
	if fl == nil {
		return 0, false
	}
	l := fl.level.Load()
	if l == 0 {
		return 0, false
	}
	return slog.Level(l - levelBias), true
}

// Fail marks the request failed and writes the records kept so far, in
// order, marked as replayed; below-level records logged afterwards are
// written at once, marked the same way. A record at slog.LevelError or
// above, logged with the Flight's context, calls it before it is written.
func (fl *Flight) Fail() {
	if fl == nil || fl.sealed.Load() {
		return
	}
	fl.mu.Lock()
	if fl.sealed.Load() {
		fl.mu.Unlock()
		return
	}
	first := !fl.failed
	fl.failed = true
	buf := fl.detach()
	fl.mu.Unlock()
	if first {
		fl.rec.failed.Add(1)
	}
	fl.rec.replay(buf)
}

// End closes the Flight: when failed is true or the request failed
// before (Fail), the records kept are written, in order, marked as
// replayed; otherwise they are discarded without being encoded. Records
// logged with the Flight's context afterwards follow the handler's level
// alone. Calls after the first do nothing.
func (fl *Flight) End(failed bool) {
	if fl == nil {
		return
	}
	fl.mu.Lock()
	if fl.sealed.Load() {
		fl.mu.Unlock()
		return
	}
	fl.sealed.Store(true)
	wasFailed := fl.failed
	buf := fl.detach()
	fl.mu.Unlock()
	r := fl.rec
	if failed && !wasFailed {
		r.failed.Add(1)
	}
	if failed || wasFailed {
		r.replay(buf)
	} else {
		r.discard(buf)
	}
	r.open.Add(-1)
}
