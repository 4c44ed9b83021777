package spool

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Options bound a Spool. Zero values take the defaults.
type Options struct {
	// MaxBytes bounds the total size of the segment files, journals
	// included; when a write would exceed it, the oldest sealed segments
	// are deleted (and counted) until it fits. Journals and the segment
	// being replayed are never deleted. Default 1 GiB.
	MaxBytes int64
	// SegmentBytes is the size after which Append starts a new segment
	// file. Default 8 MiB.
	SegmentBytes int64
	// Fsync makes Append flush the segment (and, once, the directory
	// entry of a new segment) to stable storage before it returns, so
	// that a record is durable against a crash of the machine whichever
	// segment it went to (a Sync after Append could miss a segment that
	// Next sealed in between). Journals are synced by their owner with
	// Journal.Sync.
	Fsync bool
	// WrapFile, when not nil, wraps each segment file the spool opens for
	// writing; tests make writes fail with it as on a full disk where they
	// cannot mount a small file system.
	WrapFile func(*os.File) File
}

// File is a segment file open for writing: an *os.File, or what
// Options.WrapFile made of one.
type File interface {
	Write(b []byte) (int, error)
	Sync() error
	Close() error
	Stat() (os.FileInfo, error)
	Truncate(size int64) error
}

// Stats are the spool's counters.
type Stats struct {
	// Bytes is the current size of all segment files, journals included.
	Bytes int64
	// Records and Items count what waits for replay (what Next hands out,
	// and the segment handed out but not yet removed); the records of
	// journals not sealed yet are not included.
	Records, Items int64
	// Journals is how many journals are open.
	Journals int
	// DroppedRecords counts records deleted with the oldest segments to
	// keep within MaxBytes; DroppedItems is the sum of their item counts.
	DroppedRecords, DroppedItems int64
	// CorruptRecords counts the damaged places found: a torn or corrupt
	// record (with the rest of its file, which can no longer be framed),
	// or a segment file that could not be read back; CorruptBytes the
	// bytes of the torn or corrupt tails.
	CorruptRecords, CorruptBytes int64
	// LostRecords counts records Records had counted that could not be
	// replayed after all: their segment file was removed, unreadable, or
	// damaged after Open. LostItems is the sum of their item counts.
	LostRecords, LostItems int64
}

type segState uint8

const (
	sealed    segState = iota // waits for replay
	open                      // Append writes to it
	journal                   // owned by a Journal
	replaying                 // handed out by Next, not yet removed
	gone                      // deleted
)

type segment struct {
	seq     uint64
	path    string
	state   segState
	size    int64
	records int64
	items   int64
	f       File // while open or a journal
	// dirSynced: the directory entry of the file is on stable storage
	// (synced with the first fsync of the file; see syncDir).
	dirSynced bool
}

// replayable reports whether the segment's records count in Stats.Records.
func (g *segment) replayable() bool { return g.state != journal && g.state != gone }

// Spool is a directory of segment files. It is safe for concurrent use.
type Spool struct {
	dir  string
	opts Options

	mu      sync.Mutex
	segs    []*segment // by seq, oldest first
	cur     *segment   // the open segment, nil until the first Append
	nextSeq uint64
	closed  bool
	stats   Stats
	buf     []byte
}

// Open opens (creating it if needed) the spool in dir, checks every
// existing segment, truncates torn or corrupt tails and counts what was
// lost. Existing records, journals a killed process left included, are
// replayed first by Next.
func Open(dir string, opts Options) (*Spool, error) {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 1 << 30
	}
	if opts.SegmentBytes <= 0 {
		opts.SegmentBytes = 8 << 20
	}
	if opts.SegmentBytes > opts.MaxBytes {
		opts.SegmentBytes = opts.MaxBytes
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	s := &Spool{dir: dir, opts: opts, nextSeq: 1}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, suffix) {
			continue
		}
		seq, err := strconv.ParseUint(strings.TrimSuffix(n, suffix), 10, 64)
		if err != nil {
			continue
		}
		s.nextSeq = max(s.nextSeq, seq+1)
		if !e.Type().IsRegular() {
			continue // a FIFO or a link to a device could block or never end
		}
		seg := &segment{seq: seq, path: filepath.Join(dir, n), state: sealed}
		if err := s.check(seg); err != nil {
			return nil, err
		}
		if seg.records == 0 {
			_ = os.Remove(seg.path)
			continue
		}
		s.segs = append(s.segs, seg)
	}
	sort.Slice(s.segs, func(i, j int) bool { return s.segs[i].seq < s.segs[j].seq })
	for _, seg := range s.segs {
		s.stats.Bytes += seg.size
		s.stats.Records += seg.records
		s.stats.Items += seg.items
	}
	return s, nil
}

// check scans a segment, truncating it at the first bad record.
func (s *Spool) check(seg *segment) error {
	f, err := os.OpenFile(seg.path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	good, recs, items := scan(data, nil)
	seg.size, seg.records, seg.items = good, recs, items
	if good < int64(len(data)) {
		s.stats.CorruptRecords++
		s.stats.CorruptBytes += int64(len(data)) - good
		if err := f.Truncate(good); err != nil {
			return fmt.Errorf("spool: truncating %s: %w", seg.path, err)
		}
	}
	return nil
}

// create starts a new segment file in state st (s.mu held).
func (s *Spool) create(st segState) (*segment, error) {
	seg := &segment{seq: s.nextSeq, state: st}
	seg.path = filepath.Join(s.dir, fmt.Sprintf("%020d%s", seg.seq, suffix))
	f, err := os.OpenFile(seg.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	seg.f = f
	if s.opts.WrapFile != nil {
		seg.f = s.opts.WrapFile(f)
	}
	s.nextSeq++
	s.segs = append(s.segs, seg)
	return seg, nil
}

// write appends a framed record to seg's file and accounts for it (s.mu
// held). A failed write (a full disk) is cut off again, so that the
// record the caller counts as not written is neither replayed nor taken
// for damage later, and its bytes are given back; only when that fails
// too does the segment end in a torn record, its size what is on disk.
func (s *Spool) write(seg *segment, items int, payload []byte) error {
	b := appendRecord(s.buf[:0], items, payload)
	if cap(b) <= 1<<20 {
		s.buf = b[:0]
	}
	if n, err := seg.f.Write(b); err != nil {
		if n == 0 || seg.f.Truncate(seg.size) == nil {
			return fmt.Errorf("spool: %w", err)
		}
		if fi, serr := seg.f.Stat(); serr == nil {
			grown := fi.Size() - seg.size
			seg.size += grown
			s.stats.Bytes += grown
		}
		return fmt.Errorf("spool: %w", err)
	}
	seg.size += int64(len(b))
	seg.records++
	seg.items += int64(items)
	s.stats.Bytes += int64(len(b))
	if seg.replayable() {
		s.stats.Records++
		s.stats.Items += int64(items)
	}
	return nil
}

// sealOpen closes the open segment and makes it replayable; an empty one
// is removed (s.mu held).
func (s *Spool) sealOpen() error {
	if s.cur == nil {
		return nil
	}
	seg := s.cur
	err := seg.f.Close()
	s.cur, seg.f = nil, nil
	if seg.records == 0 {
		_ = s.unlink(seg)
	} else {
		seg.state = sealed
	}
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	return nil
}

// unlink deletes a segment's file and forgets it (s.mu held).
func (s *Spool) unlink(seg *segment) error {
	if seg.state == gone {
		return nil
	}
	for i, g := range s.segs {
		if g == seg {
			s.segs = append(s.segs[:i], s.segs[i+1:]...)
			break
		}
	}
	s.stats.Bytes -= seg.size
	if seg.replayable() {
		s.stats.Records -= seg.records
		s.stats.Items -= seg.items
	}
	seg.state = gone
	if err := os.Remove(seg.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("spool: %w", err)
	}
	return nil
}

// ErrTooLarge is returned for a record bigger than MaxBytes.
var ErrTooLarge = errors.New("spool: record larger than the spool")

// ErrFull is returned when a record does not fit although every segment
// that may be dropped was: the rest are journals or being replayed.
var ErrFull = errors.New("spool: full (what is left is being written or replayed)")

// errClosed is returned after Close.
var errClosed = errors.New("spool: closed")

// makeRoom deletes the oldest sealed segments until size more bytes fit
// (s.mu held). The open segment is sealed first when that is what it takes.
func (s *Spool) makeRoom(size int64) error {
	if size > s.opts.MaxBytes {
		return ErrTooLarge
	}
	for s.stats.Bytes+size > s.opts.MaxBytes {
		var victim *segment
		for _, g := range s.segs {
			if g.state == sealed {
				victim = g
				break
			}
		}
		if victim == nil {
			if s.cur == nil || s.cur.records == 0 {
				return ErrFull
			}
			if err := s.sealOpen(); err != nil {
				return err
			}
			continue
		}
		s.stats.DroppedRecords += victim.records
		s.stats.DroppedItems += victim.items
		if err := s.unlink(victim); err != nil {
			return err
		}
	}
	return nil
}

// Append writes one record holding items items to the open segment. It is
// durable against a crash of the process once Append returns (it is in
// the kernel's page cache), and against a crash of the machine with
// Options.Fsync (the file, and the directory for a new file, are synced).
// An error that wraps ErrSync means the record was written but the fsync
// failed: a restarted process replays it, a crashed machine may not.
func (s *Spool) Append(items int, payload []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	size := int64(headerSize + len(payload))
	if s.cur != nil && s.cur.size > 0 && s.cur.size+size > s.opts.SegmentBytes {
		if err := s.sealOpen(); err != nil {
			return err
		}
	}
	if err := s.makeRoom(size); err != nil {
		return err
	}
	if s.cur == nil {
		seg, err := s.create(open)
		if err != nil {
			return err
		}
		s.cur = seg
	}
	if err := s.write(s.cur, items, payload); err != nil {
		// Should a torn record be left, it would hide every later one:
		// start afresh.
		_ = s.sealOpen()
		return err
	}
	if s.opts.Fsync {
		if err := s.cur.f.Sync(); err != nil {
			return fmt.Errorf("%w: %w", ErrSync, err)
		}
		if !s.cur.dirSynced {
			if err := syncDir(s.dir); err != nil {
				return fmt.Errorf("%w: %w", ErrSync, err)
			}
			s.cur.dirSynced = true
		}
	}
	return nil
}

// syncDir flushes a directory to stable storage, so that the entries of
// the files created in it survive a crash of the machine.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// ErrSync is wrapped by the error of an Append whose record was written
// but could not be flushed to stable storage (Options.Fsync): the process
// can still replay it, a crash of the machine may lose it.
var ErrSync = errors.New("spool: fsync")

// Sync flushes the open segment to stable storage.
func (s *Spool) Sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil {
		return nil
	}
	return s.cur.f.Sync()
}

// Stats returns the spool's counters.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Close closes the open segment (an empty one is removed) and the files of
// open journals; their records stay on disk for the next Open. Later
// appends fail; Journal.Discard still removes its file.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	for _, g := range s.segs {
		if g.state == journal && g.f != nil {
			_ = g.f.Close()
			g.f = nil
		}
	}
	return s.sealOpen()
}
