package spool

import (
	"fmt"
	"os"
)

// Segment is one segment's records, handed out by Next.
type Segment struct {
	seg     *segment
	Records []Record
}

// Record is one spooled record.
type Record struct {
	// Items is the item count given to Append.
	Items int
	// Payload is the record's bytes.
	Payload []byte
}

// Next returns the records of the oldest segment waiting for replay
// (sealing the open one when it is the oldest), or nil when none waits.
// The segment stays on disk until Remove is called with it, so its records
// are replayed again after a crash (at-least-once); meanwhile it is not
// dropped to make room, so that a record is never both replayed and
// counted as dropped.
func (s *Spool) Next() (*Segment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, nil
	}
	var seg *segment
	for _, g := range s.segs {
		if g.state == sealed || (g.state == open && g.records > 0) {
			seg = g
			break
		}
	}
	if seg == nil {
		return nil, nil
	}
	if seg.state == open {
		if err := s.sealOpen(); err != nil {
			return nil, err
		}
	}
	data, err := os.ReadFile(seg.path)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	seg.state = replaying
	out := &Segment{seg: seg}
	good, _, _ := scan(data, func(items int, payload []byte) {
		out.Records = append(out.Records, Record{Items: items, Payload: payload})
	})
	if good < int64(len(data)) { // damaged after Open: count and drop the tail
		s.stats.CorruptRecords++
		s.stats.CorruptBytes += int64(len(data)) - good
	}
	return out, nil
}

// Remove deletes a segment returned by Next, once its records are
// delivered.
func (s *Spool) Remove(seg *Segment) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if seg == nil || seg.seg.state != replaying {
		return nil
	}
	return s.unlink(seg.seg)
}
