package elasticsearch

import (
	"fmt"

	"github.com/glassbox-obs/glassbox/internal/spool"
)

// In SpoolAlways mode every batch the queue opens gets a journal in the
// spool: each record is written to it (one write system call) before
// Write returns, so a killed process loses nothing it accepted. A batch
// and the parts it is split into share the journal; it is deleted when
// the last part is settled (delivered, dead-lettered, or written to the
// spool on its own), and sealed for replay, without a second write, when
// the whole batch cannot be delivered.

// journalRef is a journal shared by a batch and its parts; refs and broken
// are guarded by e.mu.
type journalRef struct {
	j      *spool.Journal
	refs   int
	broken bool // a write failed: it does not hold every item
}

// intact reports whether every item of the batch holding r is in r's
// journal.
func (r *journalRef) intact() bool { return r != nil && !r.broken }

// newJournal gives a batch the queue opens its journal, in SpoolAlways
// mode (e.mu held). Without one (the spool failed), the batch is handled
// as in SpoolOnFailure mode.
func (e *Exporter) newJournal(b *batch) {
	if e.spool == nil || e.cfg.spoolMode != SpoolAlways {
		return
	}
	j, err := e.spool.NewJournal()
	if err != nil {
		e.report(fmt.Errorf("elasticsearch: write-ahead spool: %w (records kept in memory only)", err))
		return
	}
	b.j = &journalRef{j: j, refs: 1}
}

// journal writes one item to its batch's journal (e.mu held).
func (e *Exporter) journal(b *batch, item []byte) {
	if !b.j.intact() {
		return
	}
	if err := b.j.j.Append(1, item); err != nil {
		b.j.broken = true
		e.report(fmt.Errorf("elasticsearch: write-ahead spool: %w (records kept in memory only)", err))
		return
	}
	e.st.journaled.Add(1)
}

// unrefJournal drops b's journal reference; it returns the journal to
// discard when that was the last (e.mu held). After the shutdown grace
// journals are left on disk for the next run.
func (e *Exporter) unrefJournal(b *batch) *spool.Journal {
	r := b.j
	if r == nil {
		return nil
	}
	b.j = nil
	if r.refs--; r.refs > 0 || e.abort.Load() {
		return nil
	}
	return r.j
}

// discardJournal deletes a journal whose records are all settled.
func (e *Exporter) discardJournal(j *spool.Journal) {
	if j == nil {
		return
	}
	if err := j.Discard(); err != nil {
		e.report(fmt.Errorf("elasticsearch: write-ahead spool: %w", err))
	}
}

// sealJournal hands a whole batch's journal to the replayer instead of
// writing its records again; false when the batch is not whole or its
// journal misses items.
func (e *Exporter) sealJournal(b *batch) bool {
	e.mu.Lock()
	r := b.j
	ok := b.whole && r.intact() && r.refs == 1
	if ok {
		b.j = nil
	}
	e.mu.Unlock()
	if !ok {
		return false
	}
	if err := r.j.Seal(); err != nil {
		e.report(fmt.Errorf("elasticsearch: write-ahead spool: %w", err))
	}
	return true
}

// syncJournal flushes a batch's journal to stable storage (WithSpoolFsync).
func (e *Exporter) syncJournal(b *batch) {
	e.mu.Lock()
	r := b.j
	ok := r.intact()
	e.mu.Unlock()
	if !ok {
		return
	}
	if err := r.j.Sync(); err != nil {
		e.report(fmt.Errorf("elasticsearch: write-ahead spool: fsync: %w", err))
	}
}
