package spool

import (
	"os"
	"strings"
	"testing"
)

// A segment removed or damaged after Open costs only its own records,
// counted as lost and described by Next's error; the segments after it
// are still handed out.
func TestNextSkipsSegmentsDamagedAfterOpen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{SegmentBytes: 30})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"a1", "b1", "c1"} { // one segment each
		if err := s.Append(2, []byte(r+strings.Repeat("x", 20))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	files := segFiles(t, dir)
	if len(files) != 3 {
		t.Fatalf("got %d segment files, want 3", len(files))
	}
	if err := os.Remove(files[0]); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(files[1], 5); err != nil {
		t.Fatal(err)
	}
	seg, err := s.Next()
	if err == nil || seg == nil || len(seg.Records) != 0 {
		t.Fatalf("got %v, %v; want the truncated segment, empty, with an error for the removed one", seg, err)
	}
	if err := s.Remove(seg); err != nil {
		t.Fatal(err)
	}
	seg, err = s.Next()
	if err != nil || seg == nil || len(seg.Records) != 1 || !strings.HasPrefix(string(seg.Records[0].Payload), "c1") {
		t.Fatalf("got %v, %v; want the last segment", seg, err)
	}
	if err := s.Remove(seg); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.LostRecords != 2 || st.LostItems != 4 || st.CorruptRecords != 2 || st.Records != 0 || st.Items != 0 || st.Bytes != 0 {
		t.Errorf("got %+v, want 2 records of 4 items lost in 2 damaged places and nothing left", st)
	}
}
