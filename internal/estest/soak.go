package estest

import (
	"sync/atomic"
)

// The controls below serve long-running soak programs (bench/soak): faults
// that last a whole phase rather than a count of requests, and a way to
// keep a server's memory flat over hundreds of thousands of documents.

// soakFaults is the state of the phase-long faults; its fields are read by
// request handlers without s.mu.
type soakFaults struct {
	maxBody  atomic.Int64 // 0: only WithMaxContentLength applies
	itemPct  atomic.Int64 // share of bulk items failed with 503, in percent
	itemSeen int64        // bulk items counted for itemPct; s.mu held
}

// SetMaxContentLength changes http.max_content_length while the server
// runs: _bulk bodies larger than n bytes (after decompression) are
// answered with 413, as a cluster configured with a lower limit does. 0
// restores the limit of WithMaxContentLength.
func (s *Server) SetMaxContentLength(n int) { s.soak.maxBody.Store(int64(n)) }

// tooLarge reports whether a _bulk body of n bytes exceeds the limit set
// by SetMaxContentLength.
func (s *Server) tooLarge(n int) bool {
	lim := s.soak.maxBody.Load()
	return lim > 0 && int64(n) > lim
}

// SetItemFailurePercent makes pct percent of the bulk items from now on
// fail with 503 unavailable_shards_exception (a primary shard that is not
// active), spread evenly: of every 100 consecutive items, exactly pct
// fail, the others are indexed. 0 stops it. Items are counted across
// requests, so a retried item may fail again or go through.
func (s *Server) SetItemFailurePercent(pct int) {
	s.soak.itemPct.Store(int64(min(max(pct, 0), 100)))
}

// itemFails counts one bulk item and reports whether SetItemFailurePercent
// fails it (s.mu held).
func (s *Server) itemFails() bool {
	pct := s.soak.itemPct.Load()
	if pct == 0 {
		return false
	}
	n := s.soak.itemSeen
	s.soak.itemSeen++
	return (n+1)*pct/100 != n*pct/100
}

// Shed calls visit with every document stored since the last Shed, in
// write order per index, and then forgets its source and indexed terms,
// keeping only its index and _id: a seen _id still answers 409, but the
// document no longer shows in searches. A soak program that indexes for
// many minutes calls it every second to hold the server's memory flat.
func (s *Server) Shed(visit func(Doc)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, name := range s.sortedIndexNames() {
		ix := s.indices[name]
		for _, d := range ix.docs {
			if d.Source == nil {
				continue
			}
			visit(*d)
			d.Source, d.terms, d.Ignored = nil, nil, nil
		}
		ix.visible = 0
	}
}

// ClearFaults drops the faults queued by Inject and FailItems that have
// not been answered yet, ending a storm injected with a large Count.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults, s.itemFaults = nil, nil
	s.mu.Unlock()
}
