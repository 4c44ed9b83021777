package sentry

import (
	"context"
	"errors"
	"fmt"
	"sync"

	sentrygo "github.com/getsentry/sentry-go"
	"go.opentelemetry.io/otel"

	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/middleware"
)

// Reporter sends failures to Sentry. It is a middleware.Observer (per
// request: a cloned hub, a bounded breadcrumb buffer, automatic reports of
// panics and failing statuses) and a log.Sink (breadcrumbs from the
// request's records; optionally events for ERROR records with an error).
//
// A Reporter is safe for concurrent use. None of its methods waits for
// Sentry, except Flush and Shutdown, which return by their deadline.
type Reporter struct {
	cfg    config
	client *sentrygo.Client
	hub    *sentrygo.Hub
	tr     *queueTransport
	c      counters

	shutdownOnce sync.Once
	shutdownErr  error
}

var (
	_ middleware.Observer = (*Reporter)(nil)
	_ log.Sink            = (*Reporter)(nil)
	_ log.Flusher         = (*Reporter)(nil)
)

// New returns a Reporter that sends to the DSN given by WithDSN. It starts
// one delivery goroutine; call Shutdown to stop it.
func New(opts ...Option) (*Reporter, error) {
	cfg := newConfig(opts)
	if cfg.dsn == "" {
		return nil, errors.New("glassbox/sentry: no DSN (use WithDSN)")
	}
	if _, err := sentrygo.NewDsn(cfg.dsn); err != nil {
		return nil, fmt.Errorf("glassbox/sentry: invalid DSN: %w", err)
	}
	r := &Reporter{cfg: cfg}
	r.tr = newQueueTransport(cfg.queueSize, cfg.timeout, &r.c, r.handleError)
	rate := cfg.sampleRate
	if rate <= 0 || rate > 1 {
		rate = 1
	}
	client, err := sentrygo.NewClient(sentrygo.ClientOptions{
		Dsn:                  cfg.dsn,
		Environment:          cfg.environment,
		Release:              cfg.release,
		ServerName:           cfg.serverName,
		SampleRate:           rate,
		Transport:            r.tr,
		HTTPTransport:        r.tr.rt,
		BeforeSend:           r.beforeSend,
		DisableClientReports: true,
	})
	if err != nil {
		r.tr.abandonNow()
		return nil, fmt.Errorf("glassbox/sentry: %w", err)
	}
	r.client = client
	r.hub = sentrygo.NewHub(client, sentrygo.NewScope())
	return r, nil
}

func (r *Reporter) handleError(err error) {
	if r.cfg.errorHandler != nil {
		r.cfg.errorHandler.Handle(err)
		return
	}
	otel.Handle(err)
}

// Client returns the sentry-go client events go through, for code that
// wants to capture events of its own; they are scrubbed the same way.
func (r *Reporter) Client() *sentrygo.Client { return r.client }

// Stats returns the delivery counters.
func (r *Reporter) Stats() Stats { return r.c.stats() }

// Flush sends the events queued now, returning by ctx's deadline.
func (r *Reporter) Flush(ctx context.Context) error {
	if !r.tr.FlushWithContext(ctx) {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("glassbox/sentry: flush: %w", err)
		}
		return errors.New("glassbox/sentry: flush: reporter is shut down")
	}
	return nil
}

// Shutdown sends what is queued until ctx's deadline, then drops the rest
// (counted in Stats) and stops the delivery goroutine. Events reported
// afterwards are dropped. Later calls return the first call's result.
func (r *Reporter) Shutdown(ctx context.Context) error {
	r.shutdownOnce.Do(func() {
		if ctx == nil {
			ctx = context.Background()
		}
		if err := r.tr.shutdown(ctx); err != nil {
			r.shutdownErr = fmt.Errorf("glassbox/sentry: shutdown: %w", err)
		}
		r.client.Close()
	})
	return r.shutdownErr
}

// Report sends err to Sentry with the context's correlation and trace IDs
// and, within a request begun by the middleware, the request's data and
// log trail. It returns the event ID ("" when err is nil or the event was
// sampled out). Within one request, reporting an error that was already
// reported (or one that wraps it) returns the first event's ID.
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
	return r.capture(ctx, st, failure{err: err, explicit: true})
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
