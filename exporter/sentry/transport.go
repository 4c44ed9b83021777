package sentry

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// transport delivers envelopes to Sentry: a queue bounded in bytes,
// drained by one goroutine that posts each envelope in turn. Enqueueing
// never blocks; what does not fit is dropped and counted. Every envelope
// handed to it is counted once, as sent or dropped by reason.
type transport struct {
	d       *dsn
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

func newTransport(d *dsn, maxBytes int, timeout time.Duration, c *counters, onErr func(error)) *transport {
	base := http.DefaultTransport.(*http.Transport).Clone()
	ctx, cancel := context.WithCancel(context.Background())
	t := &transport{
		d:          d,
		auth:       d.authHeader(sdkName + "/" + sdkVersion()),
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
	reason := t.admit(len(b), reserved)
	if reason == nil {
		t.queue = append(t.queue, b)
		t.enqueued++
		select {
		case t.wake <- struct{}{}:
		default:
		}
	}
	t.mu.Unlock()
	if reason != nil {
		reason.Add(1)
		t.c.inFlight.Add(-1)
	}
}

// admit decides, under t.mu, whether an envelope of n bytes is queued
// (nil), or returns the counter of the reason it is dropped for. The
// reserved bytes are used or released.
func (t *transport) admit(n, reserved int) *atomic.Uint64 {
	switch {
	case t.closed:
		t.bytes -= reserved
		return &t.c.shutdown
	case t.limited(time.Now()):
		t.bytes -= reserved
		return &t.c.rateLimited
	case t.bytes-reserved+n > t.maxBytes:
		t.bytes -= reserved
		return &t.c.queueFull
	}
	t.bytes += n - reserved
	return nil
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

// send posts one envelope and counts its outcome.
func (t *transport) send(b []byte) {
	select {
	case <-t.abandon:
		t.c.shutdown.Add(1)
		return
	default:
	}
	now := time.Now()
	if t.limited(now) {
		t.c.rateLimited.Add(1)
		return
	}
	ctx, cancel := context.WithTimeout(t.sendCtx, t.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.d.endpoint, bytes.NewReader(b))
	if err != nil {
		t.c.rejected.Add(1)
		t.onErr(err)
		return
	}
	req.Header.Set("Content-Type", "application/x-sentry-envelope")
	req.Header.Set("X-Sentry-Auth", t.auth)
	req.Header.Set("User-Agent", sdkName+"/"+sdkVersion())
	resp, err := t.client.Do(req)
	if err != nil {
		select {
		case <-t.abandon:
			t.c.shutdown.Add(1)
		default:
			t.c.network.Add(1)
			t.onErr(err)
		}
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if until := backoff(resp, now); !until.IsZero() {
		t.backOff(until)
	}
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		t.c.sent.Add(1)
	case s == http.StatusTooManyRequests:
		t.c.rateLimited.Add(1)
	default:
		t.c.rejected.Add(1)
		t.onErr(&statusErr{s})
	}
}

type statusErr struct{ status int }

func (e *statusErr) Error() string {
	return "glassbox/sentry: event rejected with HTTP status " + strconv.Itoa(e.status)
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
func (t *transport) shutdown(ctx context.Context) error {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.stop.Do(func() { close(t.quit) })
	var err error
	select {
	case <-t.exited:
	case <-ctx.Done():
		err = ctx.Err()
		t.abandonNow()
		<-t.exited
	}
	t.abandonNow()
	t.http.CloseIdleConnections()
	return err
}

func (t *transport) abandonNow() {
	t.drop.Do(func() {
		close(t.abandon)
		t.cancelSend()
	})
}

// backoff returns until when error events must not be sent according to
// resp, or the zero time. X-Sentry-Rate-Limits wins over Retry-After, as
// in Sentry's protocol; a 429 without either means 60 seconds.
func backoff(resp *http.Response, now time.Time) time.Time {
	if h := resp.Header.Get("X-Sentry-Rate-Limits"); h != "" {
		return rateLimits(h, now)
	}
	if resp.StatusCode != http.StatusTooManyRequests {
		return time.Time{}
	}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		if secs, err := strconv.ParseFloat(ra, 64); err == nil && secs >= 0 {
			return now.Add(time.Duration(secs * float64(time.Second)))
		}
		if t, err := http.ParseTime(ra); err == nil {
			return t
		}
	}
	return now.Add(60 * time.Second)
}

// rateLimits reads X-Sentry-Rate-Limits ("60:error;default:project,
// 30::organization") and returns until when the error category is
// limited.
func rateLimits(h string, now time.Time) time.Time {
	var until time.Time
	for limit := range strings.SplitSeq(h, ",") {
		parts := strings.Split(strings.TrimSpace(limit), ":")
		secs, err := strconv.ParseFloat(parts[0], 64)
		if err != nil || secs < 0 {
			continue
		}
		applies := len(parts) < 2 || parts[1] == ""
		if !applies {
			for cat := range strings.SplitSeq(parts[1], ";") {
				if cat == "error" || cat == "default" {
					applies = true
				}
			}
		}
		if applies {
			if u := now.Add(time.Duration(secs * float64(time.Second))); u.After(until) {
				until = u
			}
		}
	}
	return until
}
