package sentry

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/trace"
)

type stateKey struct{}

// reqState is the per-request scope: the request, its recent records and
// the event already sent for it.
type reqState struct {
	r   *Reporter
	req *middleware.Request
	ids trace.IDs

	mu       sync.Mutex
	crumbs   []crumb // the most recent cfg.maxBreadcrumbs, by time
	seq      uint64  // crumbs kept so far
	dropped  int     // crumbs left out
	eventID  string
	reported error // the error of eventID
	lastErr  error // the last error of an ERROR record
}

// crumb is one log record kept for the breadcrumbs.
type crumb struct {
	t     time.Time
	level slog.Level
	msg   string
	doc   []byte // the ECS document, or nil when it was too large
	seq   uint64 // the order it was kept in
}

func (r *Reporter) state(ctx context.Context) *reqState {
	st, _ := ctx.Value(stateKey{}).(*reqState)
	if st == nil || st.r != r {
		return nil
	}
	return st
}

// Begin opens the request's breadcrumb buffer and puts the request in
// the context, where Report finds it.
func (r *Reporter) Begin(ctx context.Context, req *middleware.Request) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	st := &reqState{r: r, ids: trace.FromContext(ctx)}
	if req != nil {
		// The middleware may reuse *req after End; keep a copy. Its HTTP
		// request is the handler's: its Pattern, set by ServeMux while
		// routing, gives the route of reports made during the request.
		cp := *req
		st.req = &cp
		if st.ids.CorrelationID == "" && trace.ValidCorrelationID(req.CorrelationID) {
			st.ids.CorrelationID = req.CorrelationID
		}
	}
	return context.WithValue(ctx, stateKey{}, st)
}

// End reports the request when it panicked, ended with a configured HTTP
// status or gRPC code, and was not reported yet; it returns the request's
// event ID, or "".
func (r *Reporter) End(ctx context.Context, req *middleware.Request, out *middleware.Outcome) string {
	if ctx == nil {
		ctx = context.Background()
	}
	st := r.state(ctx)
	if st == nil {
		st = &reqState{r: r, req: req, ids: trace.FromContext(ctx)}
	}
	if req == nil {
		req = st.req
	}
	if out == nil {
		out = &middleware.Outcome{}
	}
	st.mu.Lock()
	id, lastErr := st.eventID, st.lastErr
	st.mu.Unlock()
	if id != "" {
		return id
	}
	f := failure{req: req, out: out}
	switch {
	case out.Panic != nil:
		f.panic = true
	case r.failedStatus(out.Status):
		f.status = out.Status
	case req != nil && req.Protocol == "grpc" && out.GRPCCode != 0 && r.cfg.grpcCodes[out.GRPCCode]:
		f.grpcCode = out.GRPCCode
	default:
		return ""
	}
	// The exception: the panic value, else the last error logged at ERROR
	// during the request, else the error the gRPC handler returned.
	switch {
	case f.panic:
		if err, ok := out.Panic.(error); ok {
			f.err = err
		} else {
			f.err = &panicError{value: out.Panic}
		}
	case lastErr != nil:
		f.err = lastErr
	case out.Err != nil:
		f.err = out.Err
	}
	return r.capture(ctx, st, f)
}

func (r *Reporter) failedStatus(status int) bool {
	if r.cfg.statuses == nil {
		return status >= 500 && status <= 599
	}
	return r.cfg.statuses[status]
}

// reportedAs returns the event ID of err when it, or an error it wraps or
// that wraps it, was already reported for the request.
func (st *reqState) reportedAs(err error) (string, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.eventID == "" || st.reported == nil {
		return "", false
	}
	if errors.Is(err, st.reported) || errors.Is(st.reported, err) {
		return st.eventID, true
	}
	return "", false
}

// setEvent records id as the request's event unless one was recorded
// meanwhile; it returns the request's event ID.
func (st *reqState) setEvent(id string, err error) string {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.eventID == "" {
		st.eventID, st.reported = id, err
	}
	return st.eventID
}

// addCrumb keeps c among the request's max most recent crumbs by time:
// a record the flight recorder replays when the request fails is written
// late but keeps its own time, and takes its place among the others.
func (st *reqState) addCrumb(c crumb, max int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.seq++
	c.seq = st.seq
	if len(st.crumbs) < max {
		if st.crumbs == nil {
			st.crumbs = make([]crumb, 0, min(max, 8))
		}
		st.crumbs = append(st.crumbs, c)
		return
	}
	st.dropped++
	oldest := 0
	for i := range st.crumbs {
		if st.crumbs[i].before(&st.crumbs[oldest]) {
			oldest = i
		}
	}
	if st.crumbs[oldest].before(&c) {
		st.crumbs[oldest] = c
	}
}

// before orders crumbs by time, then by the order they were kept.
func (c *crumb) before(d *crumb) bool {
	if !c.t.Equal(d.t) {
		return c.t.Before(d.t)
	}
	return c.seq < d.seq
}

// snapshot returns the crumbs oldest first.
func (st *reqState) snapshot() []crumb {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := slices.Clone(st.crumbs)
	// An insertion sort: the crumbs are few (at most the configured
	// maximum) and mostly in order already, and slices.SortFunc on this
	// struct would link about 15 KB of generic sorting code into every
	// binary.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].before(&out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
