package otlptest

import (
	"context"
	"sync/atomic"
	"time"
)

// The controls below serve long-running soak programs (bench/soak): a
// collector that is slow for a whole phase, and a way to keep the
// server's memory flat over hundreds of thousands of items.

// soakState is the state of the phase-long controls.
type soakState struct {
	delay atomic.Int64 // time.Duration every request is held
}

// SetDelay holds every request d before answering it (with its fault, or
// accepting it), as an overloaded collector does; 0 answers at once. A
// request whose client gives up meanwhile is recorded but not accepted.
func (s *Server) SetDelay(d time.Duration) { s.soak.delay.Store(int64(d)) }

// hold waits the SetDelay delay; false when the client went away or the
// server is closing first.
func (s *Server) hold(ctx context.Context) bool {
	d := time.Duration(s.soak.delay.Load())
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-s.closing:
	}
	return false
}

// Take returns the spans and log records accepted since the last Take and
// forgets them, with the requests recorded so far: Spans, Logs and
// Requests then start empty again.
func (s *Server) Take() ([]Span, []LogRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	spans, logs := s.spans, s.logs
	s.spans, s.logs, s.requests = nil, nil, nil
	return spans, logs
}
