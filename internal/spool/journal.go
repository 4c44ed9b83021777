package spool

import (
	"errors"
	"fmt"
	"os"
)

// Journal is a segment written ahead: the records of one batch go into it
// as they are accepted, before they are sent. When they have all been
// delivered, Discard deletes it; when they could not be, Seal hands it to
// Next for replay without writing them again. A journal a killed process
// left behind is replayed after the next Open like any segment.
//
// A Journal is used by one goroutine at a time. Its bytes count towards
// Options.MaxBytes, and it is never dropped to make room.
type Journal struct {
	s   *Spool
	seg *segment
	err error // the first write error: later appends fail with it
}

// errBroken wraps the error of a journal that failed a write.
var errBroken = errors.New("spool: journal unusable after a failed write")

// NewJournal starts an empty journal.
func (s *Spool) NewJournal() (*Journal, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	seg, err := s.create(journal)
	if err != nil {
		return nil, err
	}
	s.stats.Journals++
	return &Journal{s: s, seg: seg}, nil
}

// Append writes one record holding items items. Like Spool.Append it is
// durable against a crash of the process once it returns. After a failed
// write the journal accepts nothing more (its tail may be torn), but what
// it held is still replayed.
func (j *Journal) Append(items int, payload []byte) error {
	s := j.s
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case j.err != nil:
		return j.err
	case s.closed || j.seg.state != journal || j.seg.f == nil:
		return errClosed
	}
	if err := s.makeRoom(int64(headerSize + len(payload))); err != nil {
		return err
	}
	if err := s.write(j.seg, items, payload); err != nil {
		j.err = fmt.Errorf("%w: %w", errBroken, err)
		return err
	}
	return nil
}

// Sync flushes the journal to stable storage, and the first time also the
// spool directory, so that the journal's file is found after a crash of
// the machine.
func (j *Journal) Sync() error {
	s := j.s
	s.mu.Lock()
	f, dirSynced := j.seg.f, j.seg.dirSynced
	s.mu.Unlock()
	if f == nil {
		return nil
	}
	if err := f.Sync(); err != nil && !errors.Is(err, os.ErrClosed) {
		return fmt.Errorf("spool: %w", err)
	}
	if !dirSynced {
		if err := syncDir(s.dir); err != nil {
			return fmt.Errorf("spool: %w", err)
		}
		s.mu.Lock()
		j.seg.dirSynced = true
		s.mu.Unlock()
	}
	return nil
}

// Items is how many items the journal holds.
func (j *Journal) Items() int64 {
	j.s.mu.Lock()
	defer j.s.mu.Unlock()
	return j.seg.items
}

// Seal hands the journal's records to Next. An empty journal is removed.
// After Close, Seal leaves the file for the next Open.
func (j *Journal) Seal() error {
	s := j.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if j.seg.state != journal {
		return nil
	}
	err := j.closeFile()
	if s.closed {
		return err
	}
	s.stats.Journals--
	if j.seg.records == 0 {
		return errors.Join(err, s.unlink(j.seg))
	}
	j.seg.state = sealed
	s.stats.Records += j.seg.records
	s.stats.Items += j.seg.items
	return err
}

// Discard deletes the journal, its records delivered. It also works after
// Close (the records must not be replayed again).
func (j *Journal) Discard() error {
	s := j.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if j.seg.state != journal {
		return nil
	}
	err := j.closeFile()
	if !s.closed {
		s.stats.Journals--
	}
	return errors.Join(err, s.unlink(j.seg))
}

func (j *Journal) closeFile() error {
	f := j.seg.f
	j.seg.f = nil
	if f == nil {
		return nil
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	return nil
}
