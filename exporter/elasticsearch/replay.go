package elasticsearch

import (
	"fmt"

	"github.com/glassbox-obs/glassbox/internal/spool"
)

// replayer sends what the spool holds, oldest segment first, whenever it
// holds something and Elasticsearch can be reached. While the spool is not
// empty the workers spool new batches too (e.spooling), so that the
// replayer catches up.
func (e *Exporter) replayer(s *sender) {
	defer e.wg.Done()
	for {
		if e.spool.Stats().Records == 0 {
			e.spooling.Store(false)
			select {
			case <-e.stop:
				return
			case <-e.replayWake:
			}
			continue
		}
		select {
		case <-e.installed:
		case <-e.stop:
			return
		}
		seg, err := e.spool.Next()
		if err != nil {
			e.report(fmt.Errorf("elasticsearch: %w", err)) // records lost on disk: counted by the spool
		}
		if seg == nil {
			if err != nil && !s.pause(e.backoff(3), false) {
				return
			}
			continue
		}
		if !s.replaySegment(seg) {
			return // shutting down: the segment stays for the next run
		}
		if err := e.spool.Remove(seg); err != nil {
			e.report(err)
		}
	}
}

// replaySegment sends a segment's records in batches of up to the flush
// size; false when Shutdown began first.
func (s *sender) replaySegment(seg *spool.Segment) bool {
	var b *batch
	for _, rec := range seg.Records {
		if b != nil && len(b.buf)+len(rec.Payload) > s.e.cfg.flushBytes {
			if !s.replay(b) {
				return false
			}
			b = nil
		}
		if b == nil {
			b = &batch{replay: true}
		}
		b.appendItems(rec.Payload)
	}
	return b == nil || s.replay(b)
}

// replay delivers one batch read back from the spool. When a whole
// request fails, only what is left is sent again: the items already
// settled (delivered, duplicates, dead-lettered) are never sent twice, so
// each is counted once. Before each attempt it waits until Elasticsearch
// can be reached; after an error answer it backs off. False when Shutdown
// began first.
func (s *sender) replay(b *batch) bool {
	e := s.e
	for attempt := 1; ; attempt++ {
		if up := e.health.reachable(); up != nil {
			select {
			case <-up:
			case <-e.stop:
				return false
			}
		}
		if s.stopping() {
			return false
		}
		rest := s.deliver(b)
		if rest == nil {
			return true
		}
		b = rest
		if e.health.reachable() == nil && !s.pause(e.backoff(attempt), true) {
			return false
		}
	}
}
