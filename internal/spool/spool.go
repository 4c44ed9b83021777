package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
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
	// MaxBytes bounds the total size of the segment files; when an append
	// would exceed it, the oldest segments are deleted (and counted) until
	// it fits. Default 1 GiB.
	MaxBytes int64
	// SegmentBytes is the size after which a new segment file is started.
	// Default 8 MiB.
	SegmentBytes int64
}

// Stats are the spool's counters.
type Stats struct {
	// Bytes is the current size of all segment files.
	Bytes int64
	// Records is how many records are waiting.
	Records int64
	// DroppedRecords counts records deleted with the oldest segments to
	// keep within MaxBytes; DroppedItems is the sum of their item counts.
	DroppedRecords, DroppedItems int64
	// CorruptRecords counts records lost to a torn or corrupt tail;
	// CorruptBytes the bytes truncated.
	CorruptRecords, CorruptBytes int64
}

// header: length (4), CRC-32C of count+payload (4), item count (4).
const headerSize = 12

var crcTable = crc32.MakeTable(crc32.Castagnoli)

const suffix = ".seg"

type segment struct {
	seq     uint64
	path    string
	size    int64
	records int64
	items   int64
}

// Spool is a directory of segment files. It is safe for concurrent use.
type Spool struct {
	dir  string
	opts Options

	mu    sync.Mutex
	segs  []*segment // oldest first; the last one is open for appends
	f     *os.File
	stats Stats
	buf   []byte
}

// Open opens (creating it if needed) the spool in dir, checks every
// existing segment, truncates torn or corrupt tails and counts what was
// lost, and starts a new segment for appends. Existing records are
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
	s := &Spool{dir: dir, opts: opts}
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
		seg := &segment{seq: seq, path: filepath.Join(dir, n)}
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
	}
	if err := s.rotate(); err != nil {
		return nil, err
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
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	good, recs, items := scan(data, nil)
	seg.size, seg.records, seg.items = good, recs, items
	if good < fi.Size() {
		s.stats.CorruptRecords++
		s.stats.CorruptBytes += fi.Size() - good
		if err := f.Truncate(good); err != nil {
			return fmt.Errorf("spool: truncating %s: %w", seg.path, err)
		}
	}
	return nil
}

// scan walks records in data, calling fn for each good one, and returns
// the length of the good prefix.
func scan(data []byte, fn func(items int, payload []byte)) (good int64, recs, items int64) {
	off := 0
	for len(data)-off >= headerSize {
		n := int(binary.LittleEndian.Uint32(data[off:]))
		sum := binary.LittleEndian.Uint32(data[off+4:])
		if n < 4 || len(data)-off-8 < n {
			break
		}
		body := data[off+8 : off+8+n]
		if crc32.Checksum(body, crcTable) != sum {
			break
		}
		cnt := int(binary.LittleEndian.Uint32(body))
		if fn != nil {
			fn(cnt, body[4:])
		}
		recs++
		items += int64(cnt)
		off += 8 + n
	}
	return int64(off), recs, items
}

func (s *Spool) rotate() error {
	if s.f != nil {
		if err := s.f.Close(); err != nil {
			return fmt.Errorf("spool: %w", err)
		}
		s.f = nil
	}
	var seq uint64 = 1
	if n := len(s.segs); n > 0 {
		seq = s.segs[n-1].seq + 1
	}
	seg := &segment{seq: seq, path: filepath.Join(s.dir, fmt.Sprintf("%020d%s", seq, suffix))}
	f, err := os.OpenFile(seg.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	s.f = f
	s.segs = append(s.segs, seg)
	return nil
}

// ErrTooLarge is returned by Append for a record bigger than MaxBytes.
var ErrTooLarge = errors.New("spool: record larger than the spool")

// Append writes one record holding items items. It is durable against a
// crash of the process once Append returns (it is in the kernel's page
// cache); call Sync for durability against a crash of the machine.
func (s *Spool) Append(items int, payload []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return errors.New("spool: closed")
	}
	size := int64(headerSize + len(payload))
	if size > s.opts.MaxBytes {
		return ErrTooLarge
	}
	cur := s.segs[len(s.segs)-1]
	if cur.size > 0 && cur.size+size > s.opts.SegmentBytes {
		if err := s.rotate(); err != nil {
			return err
		}
		cur = s.segs[len(s.segs)-1]
	}
	for s.stats.Bytes+size > s.opts.MaxBytes && len(s.segs) > 1 {
		old := s.segs[0]
		_ = os.Remove(old.path)
		s.segs = s.segs[1:]
		s.stats.Bytes -= old.size
		s.stats.Records -= old.records
		s.stats.DroppedRecords += old.records
		s.stats.DroppedItems += old.items
	}
	b := s.buf[:0]
	b = binary.LittleEndian.AppendUint32(b, uint32(4+len(payload)))
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(items))
	b = append(b, payload...)
	binary.LittleEndian.PutUint32(b[4:], crc32.Checksum(b[8:], crcTable))
	if len(b) <= 1<<20 {
		s.buf = b
	}
	if _, err := s.f.Write(b); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	cur.size += size
	cur.records++
	cur.items += int64(items)
	s.stats.Bytes += size
	s.stats.Records++
	return nil
}

// Sync flushes the open segment to stable storage.
func (s *Spool) Sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	return s.f.Sync()
}

// Segment is the oldest segment's records, handed out by Next.
type Segment struct {
	seq     uint64
	path    string
	Records []Record
}

// Record is one spooled record.
type Record struct {
	// Items is the item count given to Append.
	Items int
	// Payload is the record's bytes.
	Payload []byte
}

// Next returns the records of the oldest segment (sealing the open one if
// it is the only one holding records), or nil when the spool is empty.
// The segment stays on disk until Remove is called with it, so records
// are replayed again after a crash (at-least-once).
func (s *Spool) Next() (*Segment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil || s.stats.Records == 0 {
		return nil, nil
	}
	if len(s.segs) == 1 {
		if err := s.rotate(); err != nil {
			return nil, err
		}
	}
	seg := s.segs[0]
	data, err := os.ReadFile(seg.path)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	out := &Segment{seq: seg.seq, path: seg.path}
	good, _, _ := scan(data, func(items int, payload []byte) {
		out.Records = append(out.Records, Record{Items: items, Payload: payload})
	})
	if good < int64(len(data)) { // damaged after Open: count and drop the tail
		s.stats.CorruptRecords++
		s.stats.CorruptBytes += int64(len(data)) - good
	}
	return out, nil
}

// Remove deletes a segment returned by Next, once its records are
// delivered. Removing a segment that was already dropped is a no-op.
func (s *Spool) Remove(seg *Segment) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, sg := range s.segs {
		if sg.seq != seg.seq || (i == len(s.segs)-1 && s.f != nil) {
			continue
		}
		s.segs = append(s.segs[:i], s.segs[i+1:]...)
		s.stats.Bytes -= sg.size
		s.stats.Records -= sg.records
		if err := os.Remove(sg.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("spool: %w", err)
		}
		return nil
	}
	return nil
}

// Stats returns the spool's counters.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Close closes the open segment; an empty one is removed.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	if cur := s.segs[len(s.segs)-1]; cur.records == 0 {
		_ = os.Remove(cur.path)
		s.segs = s.segs[:len(s.segs)-1]
	}
	return err
}
