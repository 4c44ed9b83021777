package spool

import (
	"errors"
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
//
// A segment that cannot be read back (its file removed or unreadable) is
// forgotten and the next one returned; the records lost that way, or to a
// tail damaged since Open, are counted (Stats.LostRecords) and described
// by the error, which may come with a segment: damage never holds up the
// segments after it.
func (s *Spool) Next() (*Segment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for !s.closed {
		var seg *segment
		for _, g := range s.segs {
			if g.state == sealed || (g.state == open && g.records > 0) {
				seg = g
				break
			}
		}
		if seg == nil {
			break
		}
		if seg.state == open {
			if err := s.sealOpen(); err != nil {
				return nil, errors.Join(append(errs, err)...)
			}
		}
		data, err := os.ReadFile(seg.path)
		if err != nil {
			s.stats.CorruptRecords++
			s.lost(seg.records, seg.items)
			errs = append(errs, fmt.Errorf("spool: %d records (%d items) lost: %w", seg.records, seg.items, err))
			if err := s.unlink(seg); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		seg.state = replaying
		out := &Segment{seg: seg}
		var items int64
		good, _, _ := scan(data, func(n int, payload []byte) {
			out.Records = append(out.Records, Record{Items: n, Payload: payload})
			items += int64(n)
		})
		if good < int64(len(data)) || int64(len(out.Records)) < seg.records { // damaged after Open
			s.stats.CorruptRecords++
			s.stats.CorruptBytes += int64(len(data)) - good
			recs := seg.records - int64(len(out.Records))
			s.lost(recs, seg.items-items)
			errs = append(errs, fmt.Errorf("spool: %s damaged: %d records (%d items) lost", seg.path, recs, seg.items-items))
		}
		return out, errors.Join(errs...)
	}
	return nil, errors.Join(errs...)
}

// lost counts records Records had counted that cannot be replayed (s.mu
// held).
func (s *Spool) lost(recs, items int64) {
	if recs <= 0 {
		return
	}
	s.stats.LostRecords += recs
	s.stats.LostItems += max(items, 0)
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
