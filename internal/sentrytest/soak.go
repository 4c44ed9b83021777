package sentrytest

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// soakListener lets SetRefused close and reopen the server's listener,
// for soak programs (bench/soak) whose Sentry goes away for a phase.
type soakListener struct {
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	refused bool
	closed  bool
}

// trackConn is the http.Server's ConnState hook: it records open
// connections so that SetRefused can cut them, and cuts those that open
// while refused.
func (s *Server) trackConn(c net.Conn, st http.ConnState) {
	l := &s.soak
	l.mu.Lock()
	defer l.mu.Unlock()
	switch st {
	case http.StateNew:
		if l.refused {
			_ = c.Close()
			return
		}
		if l.conns == nil {
			l.conns = map[net.Conn]struct{}{}
		}
		l.conns[c] = struct{}{}
	case http.StateClosed, http.StateHijacked:
		delete(l.conns, c)
	}
}

// SetRefused stops (true) or resumes (false) accepting connections on the
// server's address, closing the open ones: the client sees "connection
// refused", as when Sentry cannot be reached, and then finds it again at
// the same DSN.
func (s *Server) SetRefused(refused bool) error {
	l := &s.soak
	l.mu.Lock()
	defer l.mu.Unlock()
	if refused == l.refused || l.closed {
		return nil
	}
	l.refused = refused
	if refused {
		err := s.ln.Close()
		for c := range l.conns {
			_ = c.Close()
			delete(l.conns, c)
		}
		return err
	}
	var ln net.Listener
	var err error
	for range 50 { // the port may linger briefly after close
		if ln, err = net.Listen("tcp", s.ln.Addr().String()); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	s.ln = ln
	go func() { _ = s.srv.Serve(ln) }()
	return nil
}

// closeListener stops SetRefused from reopening the listener; Close calls
// it first.
func (s *Server) closeListener() {
	s.soak.mu.Lock()
	s.soak.closed = true
	s.soak.mu.Unlock()
}
