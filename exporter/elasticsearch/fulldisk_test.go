package elasticsearch_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/internal/estest"
	"github.com/glassbox-obs/glassbox/internal/spool"
	"github.com/glassbox-obs/glassbox/log"
)

// fullDisk is a spool directory whose disk can be filled and freed.
type fullDisk struct {
	kind string // "tmpfs" or "injected"
	dir  string
	opts []elasticsearch.Option
	fill func(t *testing.T)
	free func(t *testing.T)
}

// tmpfsDisk mounts a 1 MiB tmpfs for the spool; false when this process
// may not mount one (not root, no CAP_SYS_ADMIN, a restricted container).
func tmpfsDisk(t *testing.T) (*fullDisk, bool) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "spool")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "size=1m,mode=0700"); err != nil {
		t.Logf("cannot mount a tmpfs (%v)", err)
		return nil, false
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmounting the tmpfs: %v", err)
		}
	})
	filler := filepath.Join(dir, "filler")
	return &fullDisk{
		kind: "tmpfs",
		dir:  dir,
		// Fill the file system but for 16 KiB: a few batches fit, then
		// every write fails with ENOSPC.
		fill: func(t *testing.T) {
			var st syscall.Statfs_t
			if err := syscall.Statfs(dir, &st); err != nil {
				t.Fatal(err)
			}
			n := int64(st.Bavail)*int64(st.Bsize) - 16<<10
			if err := os.WriteFile(filler, bytes.Repeat([]byte{'f'}, int(n)), 0o600); err != nil {
				t.Fatal(err)
			}
		},
		free: func(t *testing.T) {
			if err := os.Remove(filler); err != nil {
				t.Fatal(err)
			}
		},
	}, true
}

// injectedDisk gives the spool 16 KiB more once full: the write that
// passes that writes what fits and fails with ENOSPC (a short write, as
// when the last free block is taken), and every write after it fails. It
// stands for a full file system where the test cannot mount a small one.
func injectedDisk(t *testing.T) *fullDisk {
	d := &diskSpace{left: -1}
	return &fullDisk{
		kind: "injected",
		dir:  t.TempDir(),
		opts: []elasticsearch.Option{elasticsearch.WithSpoolFile(func(f *os.File) spool.File { return &fullFile{File: f, d: d} })},
		fill: func(*testing.T) { d.set(16 << 10) },
		free: func(*testing.T) { d.set(-1) },
	}
}

// diskSpace is the space left on an injected disk; -1 for unbounded.
type diskSpace struct {
	mu   sync.Mutex
	left int
}

func (d *diskSpace) set(n int) {
	d.mu.Lock()
	d.left = n
	d.mu.Unlock()
}

// take returns how much of n bytes fit, and takes it.
func (d *diskSpace) take(n int) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.left < 0 {
		return n
	}
	n = min(n, d.left)
	d.left -= n
	return n
}

type fullFile struct {
	*os.File
	d *diskSpace
}

func (f *fullFile) Write(b []byte) (int, error) {
	fit := f.d.take(len(b))
	n, err := f.File.Write(b[:fit])
	if err == nil && fit < len(b) {
		err = &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	return n, err
}

// TestSpoolOnAFullDisk: while Elasticsearch is away the spool's disk
// fills up. Records that cannot be written are counted as dropped
// (spool_full) and reported, writes never block, nothing panics; once
// space returns records are spooled again, and once Elasticsearch is
// back every record not counted as dropped is stored, once.
func TestSpoolOnAFullDisk(t *testing.T) {
	onFullDisks(t, testFullDisk)
}

// onFullDisks runs test in both spool modes on a tmpfs (on the injected
// disk when none can be mounted) and on the injected disk.
func onFullDisks(t *testing.T, test func(t *testing.T, mode elasticsearch.SpoolMode, d *fullDisk)) {
	for _, mode := range []elasticsearch.SpoolMode{elasticsearch.SpoolAlways, elasticsearch.SpoolOnFailure} {
		t.Run(string(mode)+"/tmpfs", func(t *testing.T) {
			d, ok := tmpfsDisk(t)
			if !ok {
				t.Log("running on the injected disk instead")
				d = injectedDisk(t)
			}
			test(t, mode, d)
		})
		t.Run(string(mode)+"/injected", func(t *testing.T) { test(t, mode, injectedDisk(t)) })
	}
}

// TestShutdownOnAFullDisk: Shutdown while Elasticsearch is away and the
// spool's disk is full returns by its deadline with every record in the
// spool or counted as dropped; after a restart with space and
// Elasticsearch back, what was in the spool is stored, once.
func TestShutdownOnAFullDisk(t *testing.T) {
	onFullDisks(t, func(t *testing.T, mode elasticsearch.SpoolMode, d *fullDisk) {
		srv := estest.New(t)
		opts := append([]elasticsearch.Option{elasticsearch.WithSpoolDir(d.dir), elasticsearch.WithSpoolMode(mode),
			elasticsearch.WithFlushBytes(4 << 10),
			elasticsearch.WithDeadLetterFile(filepath.Join(t.TempDir(), "dead-letter.ndjson"))}, d.opts...)
		exp := faultExporter(t, srv, opts...)
		setRefused(t, srv, true)
		d.fill(t)
		const n = 500
		done := make(chan struct{})
		go func() {
			defer close(done)
			seqDocs(t, exp.LogSink(), 0, n)
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("writing %d records has not returned after 30 s (stats %+v)", n, exp.Stats())
		}
		if err := shutdownBounded(t, exp, 300*time.Millisecond); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("got Shutdown error %v, want nil or the deadline's", err)
		}
		s := exp.Stats()
		if s.InFlight != 0 || s.Produced != n || s.Produced != s.Dropped.Total()+s.InSpool || s.Dropped.SpoolFull == 0 || s.SpoolCorrupt != 0 {
			t.Errorf("got %+v, want %d produced = dropped (spool_full) + in the spool, nothing in flight or damaged", s, n)
		}
		d.free(t)
		setRefused(t, srv, false)
		exp2 := faultExporter(t, srv, opts...)
		waitReplayed(t, exp2, 20*time.Second)
		s2 := exp2.Stats()
		stored := storedSeqs(t, srv, "logs-*")
		for seq, c := range stored {
			if c != 1 {
				t.Errorf("seq %d stored %d times, want once", seq, c)
			}
		}
		if s2.Recovered != s.InSpool || s2.Delivered != s.InSpool || int64(len(stored)) != s.InSpool || s2.SpoolCorrupt != 0 {
			t.Errorf("got %+v after the restart and %d stored, want the %d records the spool held recovered, delivered and stored", s2, len(stored), s.InSpool)
		}
		t.Logf("%s (%s): %d accepted, %d in the spool at Shutdown, %d dropped as spool_full, %d unique stored after the restart",
			t.Name(), d.kind, s.Produced, s.InSpool, s.Dropped.SpoolFull, len(stored))
	})
}

func testFullDisk(t *testing.T, mode elasticsearch.SpoolMode, d *fullDisk) {
	srv := estest.New(t)
	eh := &errorSink{}
	opts := append([]elasticsearch.Option{elasticsearch.WithSpoolDir(d.dir), elasticsearch.WithSpoolMode(mode),
		elasticsearch.WithFlushBytes(4 << 10), elasticsearch.WithErrorHandler(eh),
		elasticsearch.WithDeadLetterFile(filepath.Join(t.TempDir(), "dead-letter.ndjson"))}, d.opts...)
	exp := faultExporter(t, srv, opts...)
	sink := exp.LogSink()
	setRefused(t, srv, true)
	d.fill(t)

	// 1000 records of about 300 bytes: far more than the space left.
	const full, freed = 1000, 200
	writeSettled(t, exp, sink, 0, full)
	s := exp.Stats()
	if s.Dropped.SpoolFull == 0 || s.Dropped.Total() != s.Dropped.SpoolFull {
		t.Fatalf("got %+v with the disk full, want records dropped as spool_full only", s)
	}
	// The error handler is rate-limited: the first error may be the
	// refused connection; LastError is the spool's.
	if n := errorsSaying(eh, "no space left on device"); n == 0 && !strings.Contains(s.LastError, "no space left on device") {
		t.Errorf("got errors %v and last error %q, want the spool's ENOSPC reported", eh.errs, s.LastError)
	}
	dropped := s.Dropped.Total()

	d.free(t)
	writeSettled(t, exp, sink, full, freed)
	if s := exp.Stats(); s.Dropped.Total() != dropped {
		t.Errorf("got %d dropped after space returned, want no more than the %d before", s.Dropped.Total(), dropped)
	}

	setRefused(t, srv, false)
	back := time.Now()
	waitFor(t, 20*time.Second, "the spool to be replayed", func() bool {
		s := exp.Stats()
		return s.InSpool == 0 && s.InFlight == 0
	})
	took := time.Since(back)
	s = exp.Stats()
	stored := storedSeqs(t, srv, "logs-*")
	for seq, n := range stored {
		if n != 1 {
			t.Errorf("seq %d stored %d times, want once", seq, n)
		}
	}
	for seq := full; seq < full+freed; seq++ {
		if stored[seq] != 1 {
			t.Errorf("seq %d, written after space returned, stored %d times, want once", seq, stored[seq])
		}
	}
	// A write that failed on the full disk is counted as dropped; it
	// must not come back as a damaged spool file too.
	if s.SpoolCorrupt != 0 {
		t.Errorf("got %d damaged spool tails counted, want none: the failed writes are counted as dropped", s.SpoolCorrupt)
	}
	if s.Produced != full+freed || int64(len(stored)) != s.Produced-s.Dropped.Total() || s.Delivered != int64(len(stored)) {
		t.Errorf("got %+v and %d stored, want %d produced = stored + dropped, stored = delivered", s, len(stored), full+freed)
	}
	if err := shutdownBounded(t, exp, 10*time.Second); err != nil {
		t.Error(err)
	}
	t.Logf("%s (%s): %d accepted, %d unique stored, %d dropped as spool_full, %d damaged spool tails, spool replayed %v after Elasticsearch came back, last error %q",
		t.Name(), d.kind, s.Produced, len(stored), s.Dropped.SpoolFull, s.SpoolCorrupt, took.Round(time.Millisecond), s.LastError)
}

// writeSettled writes n records and waits until none is in memory: each
// is in the spool or counted as dropped. Each write must return (a stall
// fails the test).
func writeSettled(t *testing.T, exp *elasticsearch.Exporter, sink log.Sink, from, n int) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		seqDocs(t, sink, from, n)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("writing %d records has not returned after 30 s (stats %+v)", n, exp.Stats())
	}
	waitFor(t, 20*time.Second, "every record spooled or dropped", func() bool {
		s := exp.Stats()
		return s.InFlight == 0 && s.Produced == int64(from+n)
	})
}
