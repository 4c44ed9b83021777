package sentry

import (
	"context"
	"log/slog"

	"github.com/glassbox-obs/glassbox/log"
)

// Write keeps records logged with a request's context as that request's
// breadcrumbs (the most recent ones, bounded), and remembers the error of
// an ERROR record for the request's event. With WithLogErrors, such a
// record is reported (once per request). Write never blocks on Sentry.
func (r *Reporter) Write(ctx context.Context, e *log.Entry) error {
	if e == nil {
		return nil
	}
	var st *reqState
	if ctx != nil {
		st = r.state(ctx)
	}
	if st != nil && r.cfg.maxBreadcrumbs > 0 {
		c := crumb{t: e.Time, level: e.Level, msg: e.Message}
		if len(e.Doc) <= r.cfg.maxCrumbBytes {
			c.doc = append([]byte(nil), e.Doc...)
		}
		st.addCrumb(c, r.cfg.maxBreadcrumbs)
	}
	if e.Level < slog.LevelError || e.Err == nil {
		return nil
	}
	if st != nil {
		st.mu.Lock()
		st.lastErr = e.Err
		done := st.eventID != ""
		st.mu.Unlock()
		if done {
			return nil
		}
	}
	if r.cfg.reportLogErrors {
		if ctx == nil {
			ctx = context.Background()
		}
		r.capture(ctx, st, failure{err: e.Err, fromLog: true, ids: &e.IDs, callers: callers()})
	}
	return nil
}
