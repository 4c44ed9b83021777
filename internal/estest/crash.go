package estest

// ClearFaults drops the faults Inject and FailItems queued that have not
// been used yet: an outage of error answers injected with a large Count
// ends, as a cluster coming back after a restart.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults, s.itemFaults = nil, nil
	s.mu.Unlock()
}
