package file

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Suffix ends the name of every file the exporter writes.
const Suffix = ".ndjson"

// rotatedLayout is the timestamp in the name of a rotated file, UTC, fixed
// width, so that names sort in rotation order.
const rotatedLayout = "20060102T150405.000000000Z"

// stream is one of the exporter's two files (logs, traces) and its rotated
// predecessors:
//
//	<dir>/<base>.ndjson                                 the active file
//	<dir>/<base>.20060102T150405.000000000Z.ndjson      rotated, oldest first by name
//
// It is used by the writer goroutine only (and by New before it starts).
type stream struct {
	dir, base string // base is "logs-<dataset>-<namespace>"
	maxBytes  int64
	maxFiles  int
	now       func() time.Time

	f           *os.File
	size        int64
	lastRotated time.Time
}

func (s *stream) path() string { return filepath.Join(s.dir, s.base+Suffix) }

// open opens (creating) the active file for appending. A last line left
// without its newline (a failed write, a crash) is closed first, so that
// it cannot glue onto the next document.
func (s *stream) open() error {
	f, err := os.OpenFile(s.path(), os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	s.f, s.size = f, st.Size()
	if s.size > 0 {
		var last [1]byte
		if _, err := f.ReadAt(last[:], s.size-1); err == nil && last[0] != '\n' {
			n, err := f.Write([]byte{'\n'})
			s.size += int64(n)
			if err != nil {
				s.close()
				return err
			}
		}
	}
	return nil
}

func (s *stream) close() error {
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

// write appends chunk, whole documents (lines) only, rotating when the
// active file would pass maxBytes. It returns how many documents reached
// the file; on error the rest did not.
func (s *stream) write(chunk []byte) (docs int, err error) {
	for len(chunk) > 0 {
		if s.f == nil {
			if err := s.open(); err != nil {
				return docs, err
			}
		}
		cut := len(chunk)
		if room := s.maxBytes - s.size; int64(cut) > room {
			cut = 0
			if room > 0 {
				cut = bytes.LastIndexByte(chunk[:room], '\n') + 1
			}
			if cut == 0 {
				if s.size > 0 {
					if err := s.rotate(); err != nil {
						return docs, err
					}
					continue
				}
				// One document larger than maxBytes: a file of its own.
				if cut = bytes.IndexByte(chunk, '\n') + 1; cut == 0 {
					cut = len(chunk)
				}
			}
		}
		n, err := s.f.Write(chunk[:cut])
		s.size += int64(n)
		docs += bytes.Count(chunk[:n], []byte{'\n'})
		if err != nil {
			s.close()
			return docs, err
		}
		chunk = chunk[cut:]
	}
	return docs, nil
}

// rotate renames the active file with a timestamp, starts a new one and
// removes the oldest rotated files beyond maxFiles.
func (s *stream) rotate() error {
	if err := s.close(); err != nil {
		return fmt.Errorf("close %s: %w", s.path(), err)
	}
	t := s.now().UTC()
	if !t.After(s.lastRotated) {
		t = s.lastRotated.Add(time.Nanosecond) // clocks step back; names must not
	}
	s.lastRotated = t
	to := filepath.Join(s.dir, s.base+"."+t.Format(rotatedLayout)+Suffix)
	if err := os.Rename(s.path(), to); err != nil {
		return err
	}
	if err := s.open(); err != nil {
		return err
	}
	return s.prune()
}

// rotated lists the rotated files of the stream, oldest first.
func (s *stream) rotated() ([]string, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		mid, ok := strings.CutPrefix(e.Name(), s.base+".")
		if !ok {
			continue
		}
		if mid, ok = strings.CutSuffix(mid, Suffix); !ok {
			continue
		}
		if _, err := time.Parse(rotatedLayout, mid); err != nil || len(mid) != len(rotatedLayout) {
			continue
		}
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names, nil
}

// prune removes the oldest rotated files so that at most maxFiles files
// (the active one included) remain, and remembers the newest rotation time.
func (s *stream) prune() error {
	names, err := s.rotated()
	if err != nil {
		return err
	}
	if n := len(names); n > 0 {
		mid := strings.TrimSuffix(strings.TrimPrefix(names[n-1], s.base+"."), Suffix)
		if t, err := time.Parse(rotatedLayout, mid); err == nil && t.After(s.lastRotated) {
			s.lastRotated = t
		}
	}
	var errs []error
	for len(names) > s.maxFiles-1 {
		if err := os.Remove(filepath.Join(s.dir, names[0])); err != nil && !os.IsNotExist(err) {
			errs = append(errs, err)
		}
		names = names[1:]
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}
