package sentry

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sentrygo "github.com/getsentry/sentry-go"
)

// Stats counts what happened to the events of a Reporter. Every event
// handed to delivery is accounted for:
// Queued = Sent + Dropped + InFlight.
type Stats struct {
	// Queued is the number of events handed to delivery.
	Queued uint64
	// Sent is the number of events Sentry accepted (2xx).
	Sent uint64
	// Dropped is the sum of the Dropped* counters.
	Dropped uint64
	// DroppedQueueFull counts events dropped because the queue was full
	// (Sentry slow or down).
	DroppedQueueFull uint64
	// DroppedRateLimited counts events answered 429 or not sent because
	// Sentry asked us to back off (Retry-After, X-Sentry-Rate-Limits).
	DroppedRateLimited uint64
	// DroppedNetwork counts events whose request failed or timed out.
	DroppedNetwork uint64
	// DroppedRejected counts events answered with another non-2xx status.
	DroppedRejected uint64
	// DroppedShutdown counts events still queued when Shutdown's deadline
	// passed, or reported after Shutdown.
	DroppedShutdown uint64
	// SampledOut counts events not sent because of the sample rate.
	SampledOut uint64
	// InFlight is the number of events queued or being sent.
	InFlight int64
}

type counters struct {
	queued, sent, queueFull, rateLimited, network, rejected, shutdown, sampledOut atomic.Uint64
	inFlight                                                                      atomic.Int64
}

func (c *counters) stats() Stats {
	s := Stats{
		Queued:             c.queued.Load(),
		Sent:               c.sent.Load(),
		DroppedQueueFull:   c.queueFull.Load(),
		DroppedRateLimited: c.rateLimited.Load(),
		DroppedNetwork:     c.network.Load(),
		DroppedRejected:    c.rejected.Load(),
		DroppedShutdown:    c.shutdown.Load(),
		SampledOut:         c.sampledOut.Load(),
		InFlight:           c.inFlight.Load(),
	}
	s.Dropped = s.DroppedQueueFull + s.DroppedRateLimited + s.DroppedNetwork + s.DroppedRejected + s.DroppedShutdown
	return s
}

// queueTransport is the sentry-go Transport of a Reporter: a bounded queue
// in front of sentry-go's HTTPSyncTransport, drained by one goroutine.
// SendEvent never blocks. The outcome of every send is observed through
// the HTTP round tripper, so every event is counted exactly once.
type queueTransport struct {
	inner *sentrygo.HTTPSyncTransport
	rt    *observingRT
	c     *counters
	onErr func(error)

	queue    chan *sentrygo.Event
	flushReq chan chan struct{}
	quit     chan struct{} // closed by shutdown: drain and exit
	abandon  chan struct{} // closed when shutdown's deadline passed
	done     chan struct{} // closed when the worker exited

	sendCtx    context.Context
	cancelSend context.CancelFunc

	mu       sync.RWMutex
	closed   bool
	stopOnce sync.Once
	start    sync.Once
}

func newQueueTransport(size int, timeout time.Duration, c *counters, onErr func(error)) *queueTransport {
	inner := sentrygo.NewHTTPSyncTransport()
	inner.Timeout = timeout
	ctx, cancel := context.WithCancel(context.Background())
	return &queueTransport{
		inner:      inner,
		rt:         newObservingRT(),
		c:          c,
		onErr:      onErr,
		queue:      make(chan *sentrygo.Event, size),
		flushReq:   make(chan chan struct{}),
		quit:       make(chan struct{}),
		abandon:    make(chan struct{}),
		done:       make(chan struct{}),
		sendCtx:    ctx,
		cancelSend: cancel,
	}
}

// Configure is called by sentry.NewClient.
func (t *queueTransport) Configure(opts sentrygo.ClientOptions) {
	t.inner.Configure(opts)
	t.start.Do(func() { go t.worker() })
}

// SendEvent queues event, or drops and counts it. It never blocks.
func (t *queueTransport) SendEvent(event *sentrygo.Event) {
	t.c.queued.Add(1)
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.closed {
		t.c.shutdown.Add(1)
		return
	}
	if t.rt.limited(time.Now()) {
		t.c.rateLimited.Add(1)
		return
	}
	select {
	case t.queue <- event:
		t.c.inFlight.Add(1)
	default:
		t.c.queueFull.Add(1)
	}
}

func (t *queueTransport) worker() {
	defer close(t.done)
	for {
		select {
		case ev := <-t.queue:
			t.send(ev)
		case ch := <-t.flushReq:
			t.drain()
			close(ch)
		case <-t.quit:
			t.drain()
			return
		}
	}
}

// drain sends what is queued now, or counts it as dropped once shutdown's
// deadline passed.
func (t *queueTransport) drain() {
	for {
		select {
		case ev := <-t.queue:
			t.send(ev)
		default:
			return
		}
	}
}

type sendObsKey struct{}

// sendObs records what the round tripper saw for one event.
type sendObs struct {
	called bool
	status int
	err    error
}

func (t *queueTransport) send(ev *sentrygo.Event) {
	defer t.c.inFlight.Add(-1)
	select {
	case <-t.abandon:
		t.c.shutdown.Add(1)
		return
	default:
	}
	obs := &sendObs{}
	t.inner.SendEventWithContext(context.WithValue(t.sendCtx, sendObsKey{}, obs), ev)
	switch {
	case !obs.called:
		// HTTPSyncTransport did not send: it is backing off after a rate
		// limit (or could not encode the event).
		t.c.rateLimited.Add(1)
	case obs.err != nil:
		select {
		case <-t.abandon:
			t.c.shutdown.Add(1)
		default:
			t.c.network.Add(1)
			t.onErr(obs.err)
		}
	case obs.status >= 200 && obs.status < 300:
		t.c.sent.Add(1)
	case obs.status == http.StatusTooManyRequests:
		t.c.rateLimited.Add(1)
	default:
		t.c.rejected.Add(1)
		t.onErr(&statusErr{obs.status})
	}
}

type statusErr struct{ status int }

func (e *statusErr) Error() string {
	return "glassbox/sentry: event rejected with HTTP status " + strconv.Itoa(e.status)
}

// Flush waits until the events queued now were sent, or ctx is done.
func (t *queueTransport) FlushWithContext(ctx context.Context) bool {
	ch := make(chan struct{})
	select {
	case t.flushReq <- ch:
	case <-t.done:
		return false
	case <-ctx.Done():
		return false
	}
	select {
	case <-ch:
		return true
	case <-ctx.Done():
		return false
	}
}

// Flush is FlushWithContext with a timeout.
func (t *queueTransport) Flush(timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return t.FlushWithContext(ctx)
}

// Close is called by sentry.Client.Close; shutdown does the work.
func (t *queueTransport) Close() {}

// shutdown stops accepting events, sends what is queued until ctx is done,
// then abandons the rest (counted) and returns once the worker exited.
func (t *queueTransport) shutdown(ctx context.Context) error {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.stopOnce.Do(func() { close(t.quit) })
	var err error
	select {
	case <-t.done:
	case <-ctx.Done():
		err = ctx.Err()
		t.abandonNow()
		<-t.done
	}
	t.abandonNow()
	t.rt.closeIdle()
	return err
}

func (t *queueTransport) abandonNow() {
	select {
	case <-t.abandon:
	default:
		close(t.abandon)
	}
	t.cancelSend()
}

// observingRT is the http.RoundTripper under sentry-go's transport: it
// records each response for the send in progress and tracks Sentry's rate
// limits so that events are dropped before they are queued.
type observingRT struct {
	base         *http.Transport
	limitedUntil atomic.Int64 // unix nanoseconds; error category
}

func newObservingRT() *observingRT {
	base := http.DefaultTransport.(*http.Transport).Clone()
	return &observingRT{base: base}
}

func (o *observingRT) closeIdle() { o.base.CloseIdleConnections() }

func (o *observingRT) limited(now time.Time) bool {
	return now.UnixNano() < o.limitedUntil.Load()
}

func (o *observingRT) RoundTrip(req *http.Request) (*http.Response, error) {
	obs, _ := req.Context().Value(sendObsKey{}).(*sendObs)
	resp, err := o.base.RoundTrip(req)
	if obs != nil {
		obs.called = true
		obs.err = err
		if resp != nil {
			obs.status = resp.StatusCode
		}
	}
	if resp != nil {
		if d := backoff(resp, time.Now()); !d.IsZero() {
			for {
				cur := o.limitedUntil.Load()
				if d.UnixNano() <= cur || o.limitedUntil.CompareAndSwap(cur, d.UnixNano()) {
					break
				}
			}
		}
	}
	return resp, err
}

// backoff returns until when error events must not be sent according to
// resp, or the zero time. X-Sentry-Rate-Limits wins over Retry-After, as
// in Sentry's protocol; a 429 without either means 60 seconds.
func backoff(resp *http.Response, now time.Time) time.Time {
	if h := resp.Header.Get("X-Sentry-Rate-Limits"); h != "" {
		var until time.Time
		for _, limit := range strings.Split(h, ",") {
			parts := strings.Split(strings.TrimSpace(limit), ":")
			secs, err := strconv.ParseFloat(parts[0], 64)
			if err != nil || secs < 0 {
				continue
			}
			applies := len(parts) < 2 || parts[1] == ""
			if !applies {
				for _, cat := range strings.Split(parts[1], ";") {
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
