package elasticsearch

import (
	"errors"
	"fmt"

	"github.com/glassbox-obs/glassbox/internal/spool"
)

// toSpool puts a batch that cannot be delivered now into the spool (its
// journal sealed, in SpoolAlways mode, else its records written), counts
// it as spooled (or dropped when the spool cannot take it), releases its
// memory and wakes the replayer.
func (s *sender) toSpool(b *batch) {
	e := s.e
	n := b.n()
	switch {
	case e.abort.Load():
		// Past the shutdown grace: no more disk writes. What a journal
		// holds is on disk for the next run all the same.
		if b.j.intact() {
			s.settle(b, &e.st.spooled, n)
		} else {
			s.settle(b, &e.st.droppedShutdown, n)
		}
		e.release(b)
		return
	case e.sealJournal(b):
		s.settle(b, &e.st.spooled, n)
	default:
		// With WithSpoolFsync the spool flushes each record it appends.
		err := e.spool.Append(n, b.buf)
		if err != nil && !errors.Is(err, spool.ErrSync) {
			s.settle(b, &e.st.droppedSpoolFull, n)
			e.report(fmt.Errorf("elasticsearch: %w (%d records dropped)", err, n))
			break
		}
		s.settle(b, &e.st.spooled, n)
		if err != nil {
			e.report(fmt.Errorf("elasticsearch: %w", err)) // written, not flushed
		}
	}
	e.release(b)
	select {
	case e.replayWake <- struct{}{}:
	default:
	}
}
