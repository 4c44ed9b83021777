package sentry

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/getsentry/sentry-go/report"
	"go.opentelemetry.io/otel"

	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/middleware"
)

// Reporter sends failures to Sentry. It is a middleware.Observer (per
// request: a bounded breadcrumb buffer, automatic reports of panics and
// failing statuses) and a log.Sink (breadcrumbs from the request's
// records; optionally events for ERROR records with an error).
//
// A Reporter is safe for concurrent use. None of its methods waits for
// Sentry, except Flush and Shutdown, which return by their deadline.
type Reporter struct {
	cfg  config
	dsn  *DSN
	rate float64
	tr   *transport
	agg  *aggregator
	c    counters

	shutdownOnce sync.Once
	shutdownErr  error
}

var (
	_ middleware.Observer = (*Reporter)(nil)
	_ log.Sink            = (*Reporter)(nil)
	_ log.Flusher         = (*Reporter)(nil)
)

// New returns a Reporter configured by opts on top of the environment
// (SENTRY_DSN, SENTRY_ENVIRONMENT, SENTRY_RELEASE, SENTRY_SAMPLE_RATE,
// GLASSBOX_KIBANA_URL; see each option). Without a DSN it returns
// ErrNoDSN; an invalid setting is an error naming the variable or option
// it came from. The Reporter starts one delivery goroutine; call Shutdown
// to stop it.
func New(opts ...Option) (*Reporter, error) {
	cfg := newConfig(opts)
	d, rate, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	r := &Reporter{cfg: cfg, dsn: d, rate: rate}
	if cfg.clientReports {
		r.c.reports = report.NewAggregator()
	}
	r.agg = newAggregator(cfg.window, r.sendSummary)
	r.tr = newTransport(d, cfg.queueBytes, cfg.timeout, &r.c, r.handleError)
	if err := r.registerMetrics(cfg.meter); err != nil {
		_ = r.Shutdown(context.Background())
		return nil, fmt.Errorf("sentry: metrics: %w", err)
	}
	return r, nil
}

func (r *Reporter) handleError(err error) {
	if r.cfg.errorHandler != nil {
		r.cfg.errorHandler.Handle(err)
		return
	}
	otel.Handle(err)
}

// Stats returns the delivery counters.
func (r *Reporter) Stats() Stats { return r.c.stats() }

// send encodes ev, counted in flight, and queues it.
func (r *Reporter) send(ev *event) {
	b, err := encodeEnvelope(r.dsn, ev)
	if err != nil {
		r.c.drop(encodeFailure(err))
		r.handleError(err)
		return
	}
	r.tr.enqueue(b, 0)
}

// encodeFailure is the outcome of an event that could not be encoded: too
// large for Sentry (which would answer 413: a send error), or an internal
// failure.
func encodeFailure(err error) outcome {
	var tl *tooLargeError
	if errors.As(err, &tl) {
		return outcomeRejected
	}
	return outcomeInternal
}

// holdForSummary keeps ev as the summary of its aggregation window w,
// with room set aside for it in the queue; it reports false when ev must
// be sent now instead.
func (r *Reporter) holdForSummary(w *aggWindow, ev *event) bool {
	b, err := encodeEnvelope(r.dsn, ev)
	if err != nil || !r.tr.reserve(len(b)) {
		r.agg.hold(w, nil, 0)
		return false
	}
	if !r.agg.hold(w, ev, len(b)) {
		r.tr.release(len(b))
		return false
	}
	return true
}

// sendSummary sends a closed window's held event with the count of the
// events it stands for.
func (r *Reporter) sendSummary(s *summary) {
	ev := s.ev
	r.setTag(ev, "aggregated", strconv.Itoa(s.count))
	ev.Contexts["aggregation"] = map[string]any{
		"count":          s.count,
		"window":         s.window.String(),
		"first_event_id": s.firstID,
		"first_seen":     s.first.UTC(),
		"last_seen":      s.last.UTC(),
	}
	b, err := encodeEnvelope(r.dsn, ev)
	if err != nil {
		r.tr.release(s.reserved)
		r.c.drop(encodeFailure(err))
		r.handleError(err)
		return
	}
	r.tr.enqueue(b, s.reserved)
}

// Flush sends the events queued now, returning by ctx's deadline. Events
// held for an aggregation window's summary wait for their window.
func (r *Reporter) Flush(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if !r.tr.flush(ctx) {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("glassbox/sentry: flush: %w", err)
		}
		return errors.New("glassbox/sentry: flush: reporter is shut down")
	}
	return nil
}

// Shutdown closes the aggregation windows (their summaries are sent),
// sends what is queued until ctx's deadline, then drops the rest (counted
// in Stats) and stops the delivery goroutine and the windows' timers.
// When everything queued went out in time and a client report is still
// pending (see WithClientReports), it sends that too, by the deadline.
// Events reported afterwards are dropped. Later calls return the first
// call's result.
func (r *Reporter) Shutdown(ctx context.Context) error {
	r.shutdownOnce.Do(func() {
		if ctx == nil {
			ctx = context.Background()
		}
		for _, s := range r.agg.shutdown() {
			r.sendSummary(s)
		}
		if err := r.tr.shutdown(ctx); err != nil {
			r.shutdownErr = fmt.Errorf("glassbox/sentry: shutdown: %w", err)
		}
	})
	return r.shutdownErr
}

// Report sends err to Sentry with the context's correlation and trace IDs
// and, within a request begun by the middleware, the request's data, its
// route and its log trail. It returns the event ID ("" when err is nil or
// the event was sampled out; the ID of the aggregation window's first
// event when err was aggregated). Within one request, reporting an error
// that was already reported (or one that wraps it) returns the first
// event's ID.
func (r *Reporter) Report(ctx context.Context, err error) string {
	if err == nil {
		return ""
	}
	if ctx == nil {
		ctx = context.Background()
	}
	st := r.state(ctx)
	if st != nil {
		if id, ok := st.reportedAs(err); ok {
			return id
		}
	}
	return r.capture(ctx, st, failure{err: err, explicit: true, callers: callers()})
}

// Report sends err to Sentry through the Reporter of the request ctx
// belongs to (see Reporter.Report). Outside a request observed by a
// Reporter it does nothing and returns "".
func Report(ctx context.Context, err error) string {
	if ctx == nil {
		return ""
	}
	st, _ := ctx.Value(stateKey{}).(*reqState)
	if st == nil {
		return ""
	}
	return st.r.Report(ctx, err)
}
