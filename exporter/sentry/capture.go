package sentry

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/glassbox-obs/glassbox/internal/errtype"
	"github.com/glassbox-obs/glassbox/internal/route"
	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/trace"
)

// failure is what is being reported.
type failure struct {
	err      error // nil for a bare failing status
	req      *middleware.Request
	out      *middleware.Outcome
	panic    bool
	status   int
	grpcCode uint32
	explicit bool       // Report was called
	fromLog  bool       // an ERROR record
	ids      *trace.IDs // the record's IDs, for fromLog
	callers  []uintptr  // where Report was called or the record logged
}

// callers returns the stack of the caller of the function that calls it.
func callers() []uintptr {
	pcs := make([]uintptr, 32)
	return pcs[:runtime.Callers(3, pcs)]
}

// capture builds the event of f and hands it to aggregation and delivery.
// It returns the event ID the failure is known by ("" when sampled out, or
// when building the event failed). It never panics and never blocks.
func (r *Reporter) capture(ctx context.Context, st *reqState, f failure) (id string) {
	if r.rate < 1 && rand.Float64() >= r.rate {
		r.c.count(outcomeSampledOut, 1)
		return ""
	}
	r.c.queued.Add(1)
	b := building{r: r}
	defer func() {
		if p := recover(); p != nil {
			b.failed()
			r.handleError(fmt.Errorf("glassbox/sentry: building an event panicked: %v", p))
			id = ""
		}
	}()
	if f.req == nil && st != nil {
		f.req = st.req
	}
	f.req = requestView(f.req)
	err, synthetic := f.err, false
	if err == nil {
		err, synthetic = &statusError{msg: statusMessage(&f), grpc: f.grpcCode != 0}, true
	}
	exc := r.exceptions(err, &f)
	fp := fingerprint(exc, &f, synthetic)
	id = newEventID()
	decision, known, w := r.agg.admit(fingerprintKey(fp), id, time.Now())
	if decision == aggCount {
		b.handedOver()
		r.c.count(outcomeAggregated, 1)
		return settle(st, &f, known)
	}
	b.holding = w
	r.c.inFlight.Add(1)
	b.inFlight = true
	ev := r.newEvent(id, exc, fp, &f)
	r.enrich(ctx, st, ev, &f)
	b.handedOver()
	if decision == aggHold && r.holdForSummary(w, ev) {
		return settle(st, &f, known)
	}
	r.send(ev)
	return settle(st, &f, id)
}

// building is what an event being built holds, so that a panic while
// building it leaves every count right: the event, counted in Queued, is
// counted as an internal failure, and the aggregation window it was to
// be held for is released.
type building struct {
	r        *Reporter
	inFlight bool       // counted in flight
	holding  *aggWindow // admit said aggHold for this window
	done     bool       // aggregation or delivery owns the event
}

func (b *building) handedOver() { b.done = true }

func (b *building) failed() {
	if b.done {
		return
	}
	if b.holding != nil {
		b.r.agg.hold(b.holding, nil, 0)
	}
	if b.inFlight {
		b.r.c.drop(outcomeInternal)
		return
	}
	b.r.c.count(outcomeInternal, 1)
}

// settle records id as the request's event and returns the ID the report
// is known by: for an automatic report, the request's first event.
func settle(st *reqState, f *failure, id string) string {
	if st == nil {
		return id
	}
	if first := st.setEvent(id, f.err); !f.explicit {
		return first
	}
	return id
}

// exceptions builds the chain of err and completes it: the panic's stack
// and mechanism for a panic, and for a report made by hand or through a
// record, where it was made when no error of the chain carries a stack.
func (r *Reporter) exceptions(err error, f *failure) []exception {
	exc := exceptionsOf(err, f.req.Scrub)
	if len(exc) == 0 {
		return exc
	}
	top := &exc[len(exc)-1] // the outermost error
	switch {
	case f.panic:
		if top.Stacktrace == nil && f.out != nil && len(f.out.Stack) > 0 {
			if frames := parsePanicStack(f.out.Stack); len(frames) > 0 {
				top.Stacktrace = &stacktrace{Frames: frames}
			}
		}
		unhandled := false
		if top.Mechanism == nil {
			top.Mechanism = &mechanism{}
		}
		top.Mechanism.Type, top.Mechanism.Handled = mechanismPanic, &unhandled
	case (f.explicit || f.fromLog) && !hasStack(exc) && len(f.callers) > 0:
		if frames := framesOf(f.callers); len(frames) > 0 {
			top.Stacktrace = &stacktrace{Frames: frames}
		}
	}
	return exc
}

// requestView returns a copy of req with method and route sanitised, and
// the route the mux matched when the request has not ended yet.
func requestView(req *middleware.Request) *middleware.Request {
	if req == nil {
		return nil
	}
	cp := *req
	cp.Method = sanitize(cp.Method, maxMethodLen)
	if cp.Route == "" && cp.HTTP != nil && cp.HTTP.Pattern != "" {
		// Reported during the request: ServeMux set the pattern on the
		// handler's request (the middleware derives http.route alike).
		cp.Route = route.FromPattern(cp.HTTP.Pattern)
	}
	cp.Route = sanitize(cp.Route, maxValueLen)
	return &cp
}

func statusMessage(f *failure) string {
	var b strings.Builder
	if f.grpcCode != 0 {
		b.WriteString("gRPC status ")
		b.WriteString(grpcCodeName(f.grpcCode))
	} else {
		b.WriteString("HTTP ")
		b.WriteString(strconv.Itoa(f.status))
	}
	if f.req != nil {
		if f.req.Protocol != "grpc" && f.req.Method != "" {
			b.WriteString(" " + f.req.Method)
		}
		if f.req.Route != "" {
			b.WriteString(" " + f.req.Route)
		}
	}
	return b.String()
}

var grpcNames = [...]string{"OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded",
	"NotFound", "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
	"Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated"}

func grpcCodeName(c uint32) string {
	if int(c) < len(grpcNames) {
		return grpcNames[c]
	}
	return "Code(" + strconv.FormatUint(uint64(c), 10) + ")"
}

// errorType is the event's error.type tag: the same name the logs, the
// access record and the span give the failure.
func errorType(f *failure) string {
	switch {
	case f.panic && f.out != nil && f.out.Panic != nil:
		return errtype.OfValue(f.out.Panic)
	case f.err != nil:
		return errtype.Name(f.err)
	}
	return ""
}
