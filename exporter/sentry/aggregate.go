package sentry

import (
	"sync"
	"time"
)

// maxWindows bounds the fingerprints aggregated at once; beyond it, events
// of new fingerprints are sent as they come (the queue still bounds them).
const maxWindows = 1000

// aggregator keeps a burst of one failure from crowding out the others:
// the first event of a fingerprint is sent at once and opens a window; of
// the events with that fingerprint in the window, the first is held and
// the others are only counted. When the window closes, the held event is
// sent as the window's summary, carrying the count (see sendSummary).
//
// Its methods are safe for concurrent use. Each open window has a timer;
// shutdown stops them all and returns the summaries still held.
type aggregator struct {
	window time.Duration // <= 0: off
	send   func(*summary)

	mu     sync.Mutex
	open   map[string]*aggWindow
	closed bool
}

type aggWindow struct {
	key         string
	firstID     string
	first, last time.Time
	count       int    // events after the first, the held one included
	holding     bool   // an event is being built to be held
	held        *event // the summary to be, or nil
	reserved    int    // queue bytes set aside for held
	timer       *time.Timer
}

// summary is a window's held event with what it stands for.
type summary struct {
	ev          *event
	reserved    int
	count       int
	firstID     string
	first, last time.Time
	window      time.Duration
}

type decision int

const (
	aggSend  decision = iota // send the event now
	aggHold                  // build it and hold it (hold) for the summary
	aggCount                 // only count it: the window's summary stands for it
)

func newAggregator(window time.Duration, send func(*summary)) *aggregator {
	return &aggregator{window: window, send: send, open: map[string]*aggWindow{}}
}

// admit decides what happens to the event id with the fingerprint key.
// For aggHold and aggCount it also returns the ID of the window's first
// event, which stands for the request's event; for aggHold, the window to
// pass to hold.
func (a *aggregator) admit(key, id string, now time.Time) (decision, string, *aggWindow) {
	if a.window <= 0 {
		return aggSend, id, nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return aggSend, id, nil
	}
	w := a.open[key]
	if w == nil {
		if len(a.open) >= maxWindows {
			return aggSend, id, nil
		}
		w = &aggWindow{key: key, firstID: id, first: now, last: now}
		w.timer = time.AfterFunc(a.window, func() { a.expire(w) })
		a.open[key] = w
		return aggSend, id, nil
	}
	w.count++
	w.last = now
	if w.held == nil && !w.holding {
		w.holding = true
		return aggHold, w.firstID, w
	}
	return aggCount, w.firstID, nil
}

// hold keeps ev, built after admit said aggHold for w, as w's summary,
// with reserved queue bytes. A nil ev gives up holding (a later event of
// the window may be held instead). It reports false when w closed
// meanwhile: the caller sends ev itself.
func (a *aggregator) hold(w *aggWindow, ev *event, reserved int) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	w.holding = false
	if a.closed || a.open[w.key] != w || ev == nil {
		return false
	}
	w.held, w.reserved = ev, reserved
	return true
}

// expire closes the window w when its timer fires.
func (a *aggregator) expire(w *aggWindow) {
	a.mu.Lock()
	if a.open[w.key] != w {
		a.mu.Unlock()
		return // shut down meanwhile
	}
	delete(a.open, w.key)
	s := a.summaryOf(w)
	a.mu.Unlock()
	if s != nil {
		a.send(s)
	}
}

func (a *aggregator) summaryOf(w *aggWindow) *summary {
	if w.held == nil {
		return nil
	}
	return &summary{ev: w.held, reserved: w.reserved, count: w.count, firstID: w.firstID,
		first: w.first, last: w.last, window: a.window}
}

// shutdown closes every window now: it stops their timers and returns
// their summaries. Events admitted afterwards are sent as they come.
func (a *aggregator) shutdown() []*summary {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closed = true
	var out []*summary
	for key, w := range a.open {
		w.timer.Stop()
		if s := a.summaryOf(w); s != nil {
			out = append(out, s)
		}
		delete(a.open, key)
	}
	return out
}
