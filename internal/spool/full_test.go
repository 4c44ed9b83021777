package spool

import (
	"os"
	"strings"
	"syscall"
	"testing"
)

// shortFile writes only the first fit bytes it is given, then fails with
// ENOSPC, as a file system that fills up in the middle of a write.
type shortFile struct {
	*os.File
	fit *int
}

func (f shortFile) Write(b []byte) (int, error) {
	if len(b) <= *f.fit {
		*f.fit -= len(b)
		return f.File.Write(b)
	}
	n, _ := f.File.Write(b[:*f.fit])
	*f.fit = 0
	return n, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
}

// A write that fails half way on a full disk leaves no torn record behind:
// the caller counts the record as not written, so it must be neither
// replayed nor counted again as damage, and the bytes are given back.
func TestFailedWriteLeavesNoTornRecord(t *testing.T) {
	dir := t.TempDir()
	fit := 1 << 20
	s, err := Open(dir, Options{WrapFile: func(f *os.File) File { return shortFile{f, &fit} }})
	if err != nil {
		t.Fatal(err)
	}
	rec := []byte(strings.Repeat("r", 100))
	if err := s.Append(1, rec); err != nil {
		t.Fatal(err)
	}
	j, err := s.NewJournal()
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Append(1, rec); err != nil {
		t.Fatal(err)
	}
	fit = 50 // half a record
	if err := s.Append(1, rec); err == nil {
		t.Fatal("Append on a full disk succeeded")
	}
	fit = 50
	if err := j.Append(1, rec); err == nil {
		t.Fatal("Journal.Append on a full disk succeeded")
	}
	if st := s.Stats(); st.Bytes != 2*int64(headerSize+len(rec)) || st.Records != 1 {
		t.Errorf("got %+v after the failed writes, want the bytes of the 2 good records only", st)
	}
	if err := j.Seal(); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s, dir)
	if st := s.Stats(); st.CorruptRecords != 0 || st.Records != 2 {
		t.Errorf("got %+v after reopening, want the 2 good records and nothing damaged", st)
	}
}
