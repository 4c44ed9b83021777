package sentry

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// transport delivers envelopes to Sentry: a queue bounded in bytes,
// drained by one goroutine that posts each envelope in turn. Enqueueing
// never blocks; what does not fit is dropped and counted. Every envelope
// handed to it is counted once, as sent or dropped by reason.
type transport struct {
	d       *DSN
	auth    string
	http    *http.Transport
	client  *http.Client
	timeout time.Duration
	c       *counters
	onErr   func(error)

	mu       sync.Mutex
	queue    [][]byte
	bytes    int // queued plus reserved (held for aggregation summaries)
	maxBytes int
	closed   bool
	enqueued uint64        // envelopes queued so far
	finished uint64        // envelopes sent or dropped by the worker
	progress chan struct{} // closed and replaced whenever finished grows
	wake     chan struct{} // one pending wake-up for the worker

	quit    chan struct{} // closed by shutdown: drain and exit
	abandon chan struct{} // closed when shutdown's deadline passed
	exited  chan struct{} // closed when the worker returned
	stop    sync.Once
	drop    sync.Once

	sendCtx    context.Context
	cancelSend context.CancelFunc

	limitedUntil atomic.Int64 // unix nanoseconds; Sentry said back off
}

func newTransport(d *DSN, maxBytes int, timeout time.Duration, c *counters, onErr func(error)) *transport {
	base := http.DefaultTransport.(*http.Transport).Clone()
	ctx, cancel := context.WithCancel(context.Background())
	t := &transport{
		d:          d,
		auth:       d.AuthHeader(sdkName + "/" + sdkVersion()),
		http:       base,
		client:     &http.Client{Transport: base},
		timeout:    timeout,
		c:          c,
		onErr:      onErr,
		maxBytes:   maxBytes,
		progress:   make(chan struct{}),
		wake:       make(chan struct{}, 1),
		quit:       make(chan struct{}),
		abandon:    make(chan struct{}),
		exited:     make(chan struct{}),
		sendCtx:    ctx,
		cancelSend: cancel,
	}
	go t.worker()
	return t
}

// reserve sets n bytes of the queue aside for an event that will be
// enqueued later (an aggregation summary); it reports whether they fit.
func (t *transport) reserve(n int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || t.bytes+n > t.maxBytes {
		return false
	}
	t.bytes += n
	return true
}

// release returns reserved bytes unused.
func (t *transport) release(n int) {
	t.mu.Lock()
	t.bytes -= n
	t.mu.Unlock()
}

// enqueue queues the envelope b of an event counted in flight, using
// reserved bytes first, or drops and counts it. It never blocks.
func (t *transport) enqueue(b []byte, reserved int) {
	t.mu.Lock()
	reason, drop := t.admit(len(b), reserved)
	if !drop {
		t.queue = append(t.queue, b)
		t.enqueued++
		select {
		case t.wake <- struct{}{}:
		default:
		}
	}
	t.mu.Unlock()
	if drop {
		t.c.drop(reason)
	}
}

// admit decides, under t.mu, whether an envelope of n bytes is queued, or
// returns the reason it is dropped for. The reserved bytes are used or
// released.
func (t *transport) admit(n, reserved int) (reason outcome, drop bool) {
	switch {
	case t.closed:
		t.bytes -= reserved
		return outcomeShutdown, true
	case t.limited(time.Now()):
		t.bytes -= reserved
		return outcomeBackoff, true
	case t.bytes-reserved+n > t.maxBytes:
		t.bytes -= reserved
		return outcomeQueueFull, true
	}
	t.bytes += n - reserved
	return 0, false
}

// pop takes the oldest envelope, or returns nil.
func (t *transport) pop() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.queue) == 0 {
		return nil
	}
	b := t.queue[0]
	t.queue[0] = nil
	t.queue = t.queue[1:]
	if len(t.queue) == 0 {
		t.queue = nil // let the backing array go
	}
	return b
}

// done records that the envelope b left the queue for good.
func (t *transport) done(b []byte) {
	t.c.inFlight.Add(-1)
	t.mu.Lock()
	t.bytes -= len(b)
	t.finished++
	close(t.progress)
	t.progress = make(chan struct{})
	t.mu.Unlock()
}

func (t *transport) worker() {
	defer close(t.exited)
	for {
		if b := t.pop(); b != nil {
			t.send(b)
			t.done(b)
			continue
		}
		select {
		case <-t.wake:
		case <-t.quit:
			for b := t.pop(); b != nil; b = t.pop() {
				t.send(b)
				t.done(b)
			}
			return
		}
	}
}

// send posts one envelope, with the pending client report attached, and
// counts the event's outcome. A report Sentry did not accept is recorded
// again for the next envelope.
func (t *transport) send(b []byte) {
	if t.abandoned() {
		t.c.count(outcomeShutdown, 1)
		return
	}
	now := time.Now()
	if t.limited(now) {
		t.c.count(outcomeBackoff, 1)
		return
	}
	item, rep := takeReport(t.c.reports)
	body := b
	if item != nil {
		body = append(b[:len(b):len(b)], item...) // a copy: b stays as queued
	}
	ctx, cancel := context.WithTimeout(t.sendCtx, t.timeout)
	defer cancel()
	status, limited, err := t.post(ctx, body, now)
	if err != nil || status/100 != 2 {
		restoreReport(t.c.reports, rep)
	}
	switch {
	case err != nil && t.abandoned():
		t.c.count(outcomeShutdown, 1)
	case err != nil:
		t.c.count(outcomeNetwork, 1)
		t.onErr(err)
	case status == http.StatusTooManyRequests, status/100 == 2 && limited:
		// Sentry dropped the event for a rate limit (on a 2xx, it kept
		// only the client report) and recorded the outcome itself.
		t.c.count(outcomeRateLimited, 1)
	case status/100 == 2:
		t.c.sent.Add(1)
	default:
		t.c.count(outcomeRejected, 1)
		t.onErr(&statusErr{status})
	}
}

// post sends an envelope and returns Sentry's status and whether its
// answer announces a rate limit on error events, which it applies.
func (t *transport) post(ctx context.Context, body []byte, now time.Time) (status int, limited bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.d.endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, false, err // the endpoint was parsed by New: cannot happen
	}
	req.Header.Set("Content-Type", "application/x-sentry-envelope")
	req.Header.Set("X-Sentry-Auth", t.auth)
	req.Header.Set("User-Agent", sdkName+"/"+sdkVersion())
	resp, err := t.client.Do(req)
	if err != nil {
		return 0, false, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	until := backoff(resp, now)
	if !until.IsZero() {
		t.backOff(until)
	}
	return resp.StatusCode, until.After(now), nil
}

func (t *transport) abandoned() bool {
	select {
	case <-t.abandon:
		return true
	default:
		return false
	}
}

type statusErr struct{ status int }

func (e *statusErr) Error() string {
	return "glassbox/sentry: envelope rejected with HTTP status " + strconv.Itoa(e.status)
}

func (t *transport) limited(now time.Time) bool {
	return now.UnixNano() < t.limitedUntil.Load()
}

func (t *transport) backOff(until time.Time) {
	for {
		cur := t.limitedUntil.Load()
		if until.UnixNano() <= cur || t.limitedUntil.CompareAndSwap(cur, until.UnixNano()) {
			return
		}
	}
}

// flush waits until the envelopes queued now were sent or dropped, or ctx
// is done; it reports whether they were.
func (t *transport) flush(ctx context.Context) bool {
	t.mu.Lock()
	target := t.enqueued
	t.mu.Unlock()
	for {
		t.mu.Lock()
		ok, ch := t.finished >= target, t.progress
		t.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-t.exited:
			t.mu.Lock()
			defer t.mu.Unlock()
			return t.finished >= target
		case <-ctx.Done():
			return false
		}
	}
}

// shutdown stops accepting envelopes, sends what is queued until ctx is
// done, then drops the rest (counted) and returns once the worker exited.
// When the queue was drained in time, it sends the client report still
// pending.
func (t *transport) shutdown(ctx context.Context) error {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.stop.Do(func() { close(t.quit) })
	var err error
	select {
	case <-t.exited:
		err = t.sendReport(ctx)
	case <-ctx.Done():
		err = ctx.Err()
		t.abandonNow()
		<-t.exited
	}
	t.abandonNow()
	t.http.CloseIdleConnections()
	return err
}

// sendReport sends the pending client report in an envelope of its own,
// by ctx's deadline. Client reports are never rate limited, so it goes
// even while Sentry asks to back off. It returns ctx's error when the
// deadline cut it short.
func (t *transport) sendReport(ctx context.Context) error {
	item, rep := takeReport(t.c.reports)
	if item == nil {
		return nil
	}
	if err := ctx.Err(); err != nil {
		restoreReport(t.c.reports, rep)
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	status, _, err := t.post(rctx, encodeReportEnvelope(t.d, item), time.Now())
	if err == nil && status/100 == 2 {
		return nil
	}
	restoreReport(t.c.reports, rep)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err == nil {
		err = &statusErr{status}
	}
	t.onErr(err)
	return nil
}

func (t *transport) abandonNow() {
	t.drop.Do(func() {
		close(t.abandon)
		t.cancelSend()
	})
}
