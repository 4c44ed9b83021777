package elasticsearch

import (
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/glassbox-obs/glassbox/internal/spool"
)

// Hooks for the tests of package elasticsearch_test.

// ProbeCap is the longest wait between two probes of an unreachable cluster.
func ProbeCap(e *Exporter) time.Duration { return e.probeCap() }

// Unreachable reports whether the exporter takes the cluster to be unreachable.
func Unreachable(e *Exporter) bool { return e.health.down.Load() }

// Finished is closed when Shutdown's work is done, also when Shutdown
// returned before (a worker hung).
func Finished(e *Exporter) <-chan struct{} { return e.finished }

// WithClock makes every retry and probe wait of the exporter come from c.
func WithClock(c *FakeClock) Option { return optionFunc(func(cfg *config) { cfg.clock = c }) }

// WithSpoolFile wraps each spool segment file the exporter writes.
func WithSpoolFile(wrap func(*os.File) spool.File) Option {
	return optionFunc(func(cfg *config) { cfg.spoolWrap = wrap })
}

// FakeClock is a clock whose time moves only when Advance is called.
type FakeClock struct {
	mu      sync.Mutex
	t       time.Time
	timers  []*fakeTimer
	changed chan struct{} // closed and replaced when a timer is added
}

type fakeTimer struct {
	at time.Time
	d  time.Duration // as requested
	c  chan time.Time
}

// NewFakeClock returns a FakeClock at an arbitrary fixed time.
func NewFakeClock() *FakeClock {
	return &FakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), changed: make(chan struct{})}
}

func (f *FakeClock) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *FakeClock) after(d time.Duration) (<-chan time.Time, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ft := &fakeTimer{at: f.t.Add(d), d: d, c: make(chan time.Time, 1)}
	if d <= 0 {
		ft.c <- f.t
		return ft.c, func() {}
	}
	f.timers = append(f.timers, ft)
	close(f.changed)
	f.changed = make(chan struct{})
	return ft.c, func() { f.remove(ft) }
}

func (f *FakeClock) remove(ft *fakeTimer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, x := range f.timers {
		if x == ft {
			f.timers = append(f.timers[:i], f.timers[i+1:]...)
			return
		}
	}
}

// AwaitTimer waits (up to 10 s of real time, else it fails t) until a
// timer whose requested duration satisfies match is pending, and returns
// how far ahead it fires.
func (f *FakeClock) AwaitTimer(t *testing.T, match func(requested time.Duration) bool) time.Duration {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		sort.Slice(f.timers, func(i, j int) bool { return f.timers[i].at.Before(f.timers[j].at) })
		for _, ft := range f.timers {
			if match(ft.d) {
				left := ft.at.Sub(f.t)
				f.mu.Unlock()
				return left
			}
		}
		changed := f.changed
		f.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("no matching timer was started within 10s")
		}
	}
}

// Pending returns how far ahead each pending timer whose requested
// duration satisfies match fires.
func (f *FakeClock) Pending(match func(requested time.Duration) bool) []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []time.Duration
	for _, ft := range f.timers {
		if match(ft.d) {
			out = append(out, ft.at.Sub(f.t))
		}
	}
	return out
}

// Advance moves the time forward by d and fires the timers that are due.
func (f *FakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
	keep := f.timers[:0]
	for _, ft := range f.timers {
		if ft.at.After(f.t) {
			keep = append(keep, ft)
			continue
		}
		ft.c <- f.t
	}
	clear(f.timers[len(keep):])
	f.timers = keep
}

// Seal hands the open batch to the workers, as the flusher does every
// flush interval.
func Seal(e *Exporter) { e.seal() }

// HeldBytes is the memory the batches waiting in the queue hold: the
// capacity of their buffers.
func HeldBytes(e *Exporter) int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	var n int64
	for _, b := range e.ready {
		n += int64(cap(b.buf))
	}
	return n
}
