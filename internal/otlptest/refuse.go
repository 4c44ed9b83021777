package otlptest

import (
	"net"
	"time"
)

// SetRefused stops (true) or resumes (false) accepting connections on the
// server's address, closing the open ones: clients see "connection
// refused", as when a collector is down or restarting, and then find it
// again at the same endpoint.
func (s *Server) SetRefused(refused bool) error {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	if refused == s.refused || s.stopping {
		return nil
	}
	s.refused = refused
	if refused {
		err := s.ln.Close()
		for c := range s.conns {
			_ = c.Conn.Close() // not c.Close: that takes s.lnMu
			delete(s.conns, c)
		}
		return err
	}
	var ln net.Listener
	var err error
	for range 50 { // the port may linger briefly after close
		if ln, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	s.serveLocked(ln)
	return nil
}

// serveLocked serves ln in the background, tracking its connections so
// that SetRefused can close them. s.lnMu is held.
func (s *Server) serveLocked(ln net.Listener) {
	s.ln = ln
	var l net.Listener = trackingListener{Listener: ln, s: s}
	if s.wrap != nil {
		l = s.wrap(l)
	}
	s.serveWG.Add(1)
	go func() {
		defer s.serveWG.Done()
		_ = s.serve(l)
	}()
}

// trackingListener records the connections it accepts in s.conns.
type trackingListener struct {
	net.Listener
	s *Server
}

func (l trackingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.s.lnMu.Lock()
		if l.s.refused {
			// Accepted just before the listener closed: refuse it too.
			l.s.lnMu.Unlock()
			_ = c.Close()
			continue
		}
		tc := &trackedConn{Conn: c, s: l.s}
		l.s.conns[tc] = struct{}{}
		l.s.lnMu.Unlock()
		return tc, nil
	}
}

// trackedConn leaves s.conns when closed.
type trackedConn struct {
	net.Conn
	s *Server
}

func (c *trackedConn) Close() error {
	c.s.lnMu.Lock()
	delete(c.s.conns, c)
	c.s.lnMu.Unlock()
	return c.Conn.Close()
}
