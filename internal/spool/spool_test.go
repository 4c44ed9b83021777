package spool

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func records(t *testing.T, s *Spool) []string {
	t.Helper()
	var out []string
	for {
		seg, err := s.Next()
		if err != nil {
			t.Fatal(err)
		}
		if seg == nil {
			return out
		}
		for _, r := range seg.Records {
			out = append(out, fmt.Sprintf("%d:%s", r.Items, r.Payload))
		}
		if err := s.Remove(seg); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReplayOldestFirstAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{SegmentBytes: 64})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := 0; i < 10; i++ {
		p := fmt.Sprintf("record-%02d-%s", i, strings.Repeat("x", 20))
		if err := s.Append(i+1, []byte(p)); err != nil {
			t.Fatal(err)
		}
		want = append(want, fmt.Sprintf("%d:%s", i+1, p))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, Options{SegmentBytes: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if st := s.Stats(); st.Records != 10 {
		t.Fatalf("got %d records after reopening, want 10", st.Records)
	}
	got := records(t, s)
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %v, want %v", got, want)
	}
	if st := s.Stats(); st.Records != 0 || st.Bytes != 0 {
		t.Errorf("got %d records %d bytes after removing all, want 0 and 0", st.Records, st.Bytes)
	}
}

func TestTornAndCorruptTailsAreTruncatedAndCounted(t *testing.T) {
	cases := []struct {
		name   string
		damage func(b []byte) []byte
	}{
		{"torn write", func(b []byte) []byte { return b[:len(b)-5] }},
		{"flipped byte", func(b []byte) []byte { b[len(b)-3] ^= 0xff; return b }},
		{"garbage appended", func(b []byte) []byte { return append(b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 3; i++ {
				if err := s.Append(1, []byte(fmt.Sprintf("rec%d", i))); err != nil {
					t.Fatal(err)
				}
			}
			s.Close()
			files, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
			if len(files) != 1 {
				t.Fatalf("got %d segment files, want 1", len(files))
			}
			b, _ := os.ReadFile(files[0])
			if err := os.WriteFile(files[0], c.damage(b), 0o600); err != nil {
				t.Fatal(err)
			}
			s, err = Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			st := s.Stats()
			if st.CorruptRecords != 1 {
				t.Errorf("got %d corrupt records counted, want 1", st.CorruptRecords)
			}
			got := records(t, s)
			wantN := 2
			if c.name == "garbage appended" {
				wantN = 3
			}
			if len(got) != wantN || got[0] != "1:rec0" {
				t.Fatalf("got %v, want the %d intact records", got, wantN)
			}
		})
	}
}

func TestBoundDropsOldestSegment(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{MaxBytes: 300, SegmentBytes: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 0; i < 20; i++ {
		if err := s.Append(2, []byte(fmt.Sprintf("%02d%s", i, strings.Repeat("y", 38)))); err != nil {
			t.Fatal(err)
		}
	}
	st := s.Stats()
	if st.Bytes > 300 {
		t.Errorf("got %d bytes on disk, want at most 300", st.Bytes)
	}
	if st.DroppedRecords == 0 || st.DroppedItems != 2*st.DroppedRecords {
		t.Errorf("got %d dropped records, %d items; want some, 2 items each", st.DroppedRecords, st.DroppedItems)
	}
	got := records(t, s)
	if int64(len(got))+st.DroppedRecords != 20 {
		t.Fatalf("got %d kept + %d dropped, want 20", len(got), st.DroppedRecords)
	}
	if !strings.HasPrefix(got[len(got)-1], "2:19") {
		t.Errorf("got newest %q, want record 19 kept", got[len(got)-1])
	}
	if err := s.Append(1, make([]byte, 400)); err != ErrTooLarge {
		t.Errorf("got %v for a record larger than the spool, want ErrTooLarge", err)
	}
}
