package spool

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// Inspect counts what Open would replay and changes nothing, also in a
// spool another Spool has open, and not a torn tail.
func TestInspectChangesNothing(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{SegmentBytes: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 0; i < 5; i++ {
		if err := s.Append(3, bytes.Repeat([]byte("x"), 40)); err != nil {
			t.Fatal(err)
		}
	}
	u, err := Inspect(dir)
	if err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if u.Records != st.Records || u.Items != st.Items || u.Bytes != st.Bytes || u.Segments < 2 || u.Oldest.IsZero() {
		t.Fatalf("got %+v, want the spool's %+v in several segments", u, st)
	}

	// A torn record at the end of a segment: not counted, not truncated.
	ents, _ := os.ReadDir(dir)
	last := filepath.Join(dir, ents[len(ents)-1].Name())
	before, _ := os.ReadFile(last)
	torn := append(append([]byte(nil), before...), 0xff, 0xff, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8)
	if err := os.WriteFile(last, torn, 0o600); err != nil {
		t.Fatal(err)
	}
	u2, err := Inspect(dir)
	if err != nil {
		t.Fatal(err)
	}
	if u2.Records != u.Records || u2.Bytes != u.Bytes+12 {
		t.Errorf("with a torn tail: got %+v, want the same records and 12 more bytes than %+v", u2, u)
	}
	if after, _ := os.ReadFile(last); !bytes.Equal(after, torn) {
		t.Error("Inspect changed a segment file")
	}
}

func TestInspectMissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "not-yet")
	if _, err := Inspect(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("got %v, want fs.ErrNotExist", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Error("Inspect created the directory")
	}
}
