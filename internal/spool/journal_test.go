package spool

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func segFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*"+suffix))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// reopen closes s and opens its directory again, as a restarted process
// would; the new spool is closed when the test ends.
func reopen(t *testing.T, s *Spool, dir string) *Spool {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func journalWith(t *testing.T, s *Spool, recs ...string) *Journal {
	t.Helper()
	j, err := s.NewJournal()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := j.Append(1, []byte(r)); err != nil {
			t.Fatal(err)
		}
	}
	return j
}

func TestJournalDiscardLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	j := journalWith(t, s, "a", "b")
	if st := s.Stats(); st.Records != 0 || st.Journals != 1 || st.Bytes == 0 {
		t.Fatalf("got %+v with an open journal, want no replayable records, 1 journal, some bytes", st)
	}
	if seg, err := s.Next(); err != nil || seg != nil {
		t.Fatalf("Next handed out an open journal: %v %v", seg, err)
	}
	if err := j.Discard(); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Bytes != 0 || st.Journals != 0 || st.Records != 0 {
		t.Errorf("got %+v after Discard, want all zero", st)
	}
	if f := segFiles(t, dir); len(f) != 0 {
		t.Errorf("got files %v after Discard, want none", f)
	}
	if err := j.Discard(); err != nil {
		t.Errorf("second Discard: %v", err)
	}
	if st := s.Stats(); st.Bytes != 0 || st.Journals != 0 {
		t.Errorf("got %+v after a second Discard, want the counters unchanged", st)
	}
}

func TestJournalSealHandsRecordsToNext(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Append(2, []byte("appended")); err != nil {
		t.Fatal(err)
	}
	j := journalWith(t, s, "j1", "j2")
	if err := j.Seal(); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Records != 3 || st.Items != 4 || st.Journals != 0 {
		t.Fatalf("got %+v, want 3 records of 4 items, no journal", st)
	}
	got := strings.Join(records(t, s), "|")
	if got != "2:appended|1:j1|1:j2" {
		t.Fatalf("got %q, want the appended record, then the journal's", got)
	}
}

// A journal neither sealed nor discarded (the process was killed) is
// replayed after the next Open; an empty one is removed.
func TestJournalOfAKilledProcessIsReplayed(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	journalWith(t, s, "r1", "r2", "r3")
	journalWith(t, s)
	// No Seal, no Discard, no Close: what SIGKILL leaves.
	s2, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if st := s2.Stats(); st.Records != 3 || st.Journals != 0 {
		t.Fatalf("got %+v after reopening, want 3 records", st)
	}
	if got := strings.Join(records(t, s2), "|"); got != "1:r1|1:r2|1:r3" {
		t.Fatalf("got %q, want the journal's records", got)
	}
	if f := segFiles(t, dir); len(f) != 0 {
		t.Errorf("got files %v after replay, want none (the empty journal removed too)", f)
	}
}

// Making room never drops the segment being replayed (it would be both
// replayed and counted as dropped) nor a journal.
func TestRoomIsNotTakenFromReplayOrJournals(t *testing.T) {
	s, err := Open(t.TempDir(), Options{MaxBytes: 200, SegmentBytes: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rec := []byte(strings.Repeat("x", 38)) // 50 bytes framed
	for i := 0; i < 2; i++ {
		if err := s.Append(1, rec); err != nil {
			t.Fatal(err)
		}
	}
	seg, err := s.Next()
	if err != nil || seg == nil || len(seg.Records) != 2 {
		t.Fatalf("Next: %v %v", seg, err)
	}
	// 100 bytes being replayed, then a journal fills the other 100.
	j := journalWith(t, s, string(rec), string(rec))
	if err := j.Append(1, rec); err != ErrFull {
		t.Errorf("got %v appending to the journal, want ErrFull", err)
	}
	if err := s.Append(1, rec); err != ErrFull {
		t.Errorf("got %v appending, want ErrFull", err)
	}
	if st := s.Stats(); st.DroppedRecords != 0 || st.Bytes != 200 {
		t.Errorf("got %+v, want 200 bytes and nothing dropped", st)
	}
	if err := s.Remove(seg); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(seg); err != nil {
		t.Errorf("second Remove: %v", err)
	}
	// Now the oldest appended records are what gives way.
	for i := 0; i < 3; i++ {
		if err := s.Append(1, rec); err != nil {
			t.Fatal(err)
		}
	}
	st := s.Stats()
	if st.Bytes > 200 || st.DroppedRecords != 2 || st.DroppedItems != 2 || st.Records != 1 || st.Journals != 1 {
		t.Errorf("got %+v, want at most 200 bytes, the 2 older appended records dropped, the journal kept", st)
	}
	if err := j.Seal(); err != nil {
		t.Fatal(err)
	}
	if got := len(records(t, s)); got != 3 {
		t.Errorf("got %d records to replay, want the journal's 2 and the newest appended", got)
	}
}

func TestJournalAfterCloseStaysForTheNextOpen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	kept := journalWith(t, s, "kept")
	gone := journalWith(t, s, "delivered")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := kept.Append(1, []byte("late")); err == nil {
		t.Errorf("Append after Close succeeded, want an error")
	}
	if err := kept.Seal(); err != nil {
		t.Errorf("Seal after Close: %v", err)
	}
	if err := gone.Discard(); err != nil {
		t.Errorf("Discard after Close: %v", err)
	}
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := strings.Join(records(t, s), "|"); got != "1:kept" {
		t.Fatalf("got %q, want only the kept journal's record", got)
	}
}

func TestJournalTornTailIsTruncated(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	journalWith(t, s, "one", "two")
	files := segFiles(t, dir)
	if len(files) != 1 {
		t.Fatalf("got %d files, want 1", len(files))
	}
	f, err := os.OpenFile(files[0], os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Half a record: a kill in the middle of a write.
	if _, err := f.Write(appendRecord(nil, 1, []byte("three"))[:10]); err != nil {
		t.Fatal(err)
	}
	f.Close()
	s2, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if st := s2.Stats(); st.CorruptRecords != 1 || st.Records != 2 {
		t.Fatalf("got %+v, want the torn record counted and 2 kept", st)
	}
	if got := fmt.Sprint(records(t, s2)); got != "[1:one 1:two]" {
		t.Fatalf("got %s", got)
	}
}
