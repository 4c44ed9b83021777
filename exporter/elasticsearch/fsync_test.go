package elasticsearch_test

import (
	"os"
	"sync"
	"testing"
	"time"

	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/internal/estest"
	"github.com/glassbox-obs/glassbox/internal/spool"
)

// syncCounter counts, per spool file, the writes and the fsyncs made
// before Shutdown began (Shutdown syncs the spool once on its own).
type syncCounter struct {
	mu      sync.Mutex
	stopped bool
	files   []*countedFile
}

type countedFile struct {
	*os.File
	c             *syncCounter
	writes, syncs int
}

func (c *syncCounter) wrap(f *os.File) spool.File {
	c.mu.Lock()
	defer c.mu.Unlock()
	cf := &countedFile{File: f, c: c}
	c.files = append(c.files, cf)
	return cf
}

func (f *countedFile) Write(b []byte) (int, error) {
	f.c.mu.Lock()
	if !f.c.stopped {
		f.writes++
	}
	f.c.mu.Unlock()
	return f.File.Write(b)
}

func (f *countedFile) Sync() error {
	f.c.mu.Lock()
	if !f.c.stopped {
		f.syncs++
	}
	f.c.mu.Unlock()
	return f.File.Sync()
}

// stop freezes the counts and returns, over the files written: how many
// there were, how many were synced at least once, how many had fewer
// syncs than writes, and the total writes and syncs.
func (c *syncCounter) stop() (files, synced, short, writes, syncs int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	for _, f := range c.files {
		if f.writes == 0 {
			continue
		}
		files++
		writes += f.writes
		syncs += f.syncs
		if f.syncs > 0 {
			synced++
		}
		if f.syncs < f.writes {
			short++
		}
	}
	return files, synced, short, writes, syncs
}

// TestSpoolFsync: WithSpoolFsync(true) reaches the disk once per batch,
// and without it the spool never calls fsync while running. In write-ahead
// mode every batch's journal is synced before the batch is sent
// (Elasticsearch healthy: batches are delivered and their journals
// deleted); in on-failure mode every failed batch is flushed before it
// counts as spooled (Elasticsearch refusing connections), whichever
// segment it went to: the replayer seals the open segment while batches
// are being written, and a Sync after the write used to flush the next
// segment instead, leaving the batch unflushed.
func TestSpoolFsync(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mode    elasticsearch.SpoolMode
		refused bool
	}{
		{"always", elasticsearch.SpoolAlways, false},
		{"on-failure", elasticsearch.SpoolOnFailure, true},
	} {
		for _, fsync := range []bool{true, false} {
			name := tc.name + "/fsync=off"
			if fsync {
				name = tc.name + "/fsync=on"
			}
			t.Run(name, func(t *testing.T) {
				srv := estest.New(t)
				c := &syncCounter{}
				exp := faultExporter(t, srv, elasticsearch.WithSpoolDir(t.TempDir()), elasticsearch.WithSpoolMode(tc.mode),
					elasticsearch.WithSpoolFsync(fsync), elasticsearch.WithFlushBytes(4<<10),
					elasticsearch.WithSpoolFile(c.wrap))
				if tc.refused {
					setRefused(t, srv, true)
				}
				const n = 300 // about 300 bytes each: some 20 batches of 4 KiB
				writeSettled(t, exp, exp.LogSink(), 0, n)
				if !tc.refused {
					waitFor(t, 20*time.Second, "every record delivered", func() bool { return exp.Stats().Delivered == n })
				}
				files, synced, short, writes, syncs := c.stop()
				t.Logf("%d spool files written (%d writes), %d of them synced (%d fsyncs)", files, writes, synced, syncs)
				switch {
				case files == 0 || writes < 10:
					t.Fatalf("got %d spool files and %d writes, want the records in the spool (stats %+v)", files, writes, exp.Stats())
				case !fsync && syncs != 0:
					t.Errorf("got %d fsyncs with WithSpoolFsync(false), want none", syncs)
				case fsync && tc.mode == elasticsearch.SpoolAlways && synced != files:
					t.Errorf("got %d of %d batch journals synced, want every one", synced, files)
				case fsync && tc.mode == elasticsearch.SpoolOnFailure && short > 0:
					t.Errorf("%d of %d spool files got fewer fsyncs than batches written to them (%d fsyncs for %d batches in all), want one each in its own file", short, files, syncs, writes)
				}
				setRefused(t, srv, false)
				if err := shutdownBounded(t, exp, 10*time.Second); err != nil {
					t.Error(err)
				}
			})
		}
	}
}
