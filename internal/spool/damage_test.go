package spool

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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
	s = reopen(t, s, dir)
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

// A file named like a segment that is not a regular file (a FIFO, a
// symbolic link to a device) is left alone: reading it could block or
// never end, and Inspect and Open must neither stall nor fail.
func TestOpenSkipsWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Append(1, []byte("kept")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "00000000000000000007.seg"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "00000000000000000008.seg")); err != nil {
		t.Fatal(err)
	}
	type result struct {
		s   *Spool
		err error
	}
	done := make(chan result, 1)
	go func() {
		if u, err := Inspect(dir); err != nil || u.Records != 1 {
			done <- result{nil, fmt.Errorf("Inspect: got %+v, %v; want the one record", u, err)}
			return
		}
		s, err := Open(dir, Options{})
		done <- result{s, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Inspect or Open has not returned after 10 s: it reads a FIFO or a device")
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	defer r.s.Close()
	if got := strings.Join(records(t, r.s), "|"); got != "1:kept" {
		t.Errorf("got %q, want the one record", got)
	}
	if err := r.s.Append(1, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "00000000000000000009.seg")); err != nil {
		t.Errorf("a new segment does not take the next number after the ones left alone: %v", err)
	}
}
