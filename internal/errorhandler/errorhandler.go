package errorhandler

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
)

// Interval is how often RateLimited passes an error through.
const Interval = time.Second

// RateLimited returns an otel.ErrorHandler that passes at most one error per
// Interval to h and counts the rest; the next error passed on says how many
// were suppressed. A nil h writes to os.Stderr.
func RateLimited(h otel.ErrorHandler) otel.ErrorHandler {
	if h == nil {
		h = otel.ErrorHandlerFunc(func(err error) {
			fmt.Fprintf(os.Stderr, "glassbox: %v\n", err)
		})
	}
	return &limiter{next: h, now: time.Now}
}

type limiter struct {
	next       otel.ErrorHandler
	now        func() time.Time
	mu         sync.Mutex
	last       time.Time
	suppressed atomic.Int64
}

// Handle implements otel.ErrorHandler.
func (l *limiter) Handle(err error) {
	if err == nil {
		return
	}
	l.mu.Lock()
	now := l.now()
	if !l.last.IsZero() && now.Sub(l.last) < Interval {
		l.mu.Unlock()
		l.suppressed.Add(1)
		return
	}
	l.last = now
	l.mu.Unlock()
	if n := l.suppressed.Swap(0); n > 0 {
		err = fmt.Errorf("%w (and %d more errors suppressed)", err, n)
	}
	l.next.Handle(err)
}
