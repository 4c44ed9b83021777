package elasticsearch_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/internal/estest"
	"github.com/glassbox-obs/glassbox/internal/spool"
)

// Crash tests: what each spool mode keeps across a restart, checked on
// the test server's documents and on both processes' counters.

// outageKind is how Elasticsearch fails during a crash test.
type outageKind struct {
	name       string
	start, end func(t *testing.T, srv *estest.Server)
}

var outageKinds = []outageKind{
	{"refused", func(t *testing.T, srv *estest.Server) { setRefused(t, srv, true) },
		func(t *testing.T, srv *estest.Server) { setRefused(t, srv, false) }},
	{"503", func(t *testing.T, srv *estest.Server) { srv.Inject(estest.Fault{Status: 503, Count: 1 << 30}) },
		func(t *testing.T, srv *estest.Server) { srv.ClearFaults() }},
	{"hanging", func(t *testing.T, srv *estest.Server) { srv.SetDelay(time.Hour) },
		func(t *testing.T, srv *estest.Server) { srv.SetDelay(0) }},
}

func setRefused(t *testing.T, srv *estest.Server, on bool) {
	t.Helper()
	if err := srv.SetRefused(on); err != nil {
		t.Fatal(err)
	}
}

// waitReplayed waits until exp has replayed every record it recovered
// from the spool at start and the spool is empty.
func waitReplayed(t *testing.T, exp *elasticsearch.Exporter, d time.Duration) {
	t.Helper()
	waitFor(t, d, "the spool to be replayed", func() bool {
		s := exp.Stats()
		return s.Replayed == s.Recovered && s.InSpool == 0
	})
}

// shutdownBounded calls Shutdown with a deadline of d and fails the test
// if it has not returned long after (a stall, not a slow machine).
func shutdownBounded(t *testing.T, exp *elasticsearch.Exporter, d time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- exp.Shutdown(ctx) }()
	select {
	case err := <-done:
		return err
	case <-time.After(d + 30*time.Second):
		t.Fatalf("Shutdown with a %v deadline has not returned 30 s past it (stats %+v)", d, exp.Stats())
		return nil
	}
}

// TestShutdownDuringOutageThenRestart: a clean Shutdown while
// Elasticsearch refuses connections, answers 503 or hangs returns by its
// deadline with every undelivered record in the spool (none dropped, none
// in flight); a new exporter on the same spool, Elasticsearch healthy,
// stores each of them once and counts each once; a third replays nothing.
func TestShutdownDuringOutageThenRestart(t *testing.T) {
	for _, mode := range []elasticsearch.SpoolMode{elasticsearch.SpoolAlways, elasticsearch.SpoolOnFailure} {
		for _, out := range outageKinds {
			t.Run(string(mode)+"/"+out.name, func(t *testing.T) {
				const before, during = 20, 300
				srv := estest.New(t)
				dir := t.TempDir()
				opts := []elasticsearch.Option{elasticsearch.WithSpoolDir(dir), elasticsearch.WithSpoolMode(mode), elasticsearch.WithFlushBytes(4 << 10)}
				exp := faultExporter(t, srv, opts...)
				sink := exp.LogSink()
				seqDocs(t, sink, 0, before)
				flush(t, exp)
				out.start(t, srv)
				seqDocs(t, sink, before, during)
				err := shutdownBounded(t, exp, 300*time.Millisecond)
				if err != nil && !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("got Shutdown error %v, want nil or the deadline's", err)
				}
				s := exp.Stats()
				if s.Produced != before+during || s.Delivered != before || s.Duplicates != 0 || s.InSpool != during ||
					s.Dropped.Total() != 0 || s.InFlight != 0 || s.Spooled != during {
					t.Errorf("first process: got %+v, want %d produced, %d delivered, %d spooled and in the spool, nothing dropped or in flight",
						s, before+during, before, during)
				}
				out.end(t, srv)

				restart := time.Now()
				exp2 := faultExporter(t, srv, opts...)
				waitReplayed(t, exp2, 20*time.Second)
				took := time.Since(restart)
				s2 := exp2.Stats()
				if s2.Recovered != during || s2.Replayed != during || s2.Delivered != during || s2.Duplicates != 0 || s2.Produced != 0 || s2.Dropped.Total() != 0 {
					t.Errorf("second process: got %+v, want %d recovered, replayed and delivered, no duplicates, nothing dropped", s2, during)
				}
				stored := storedSeqs(t, srv, "logs-*")
				assertExactlyOnce(t, stored, rangeInts(0, before+during))
				if n := len(srv.Docs("logs-*")); n != before+during {
					t.Errorf("got %d documents stored, want %d", n, before+during)
				}
				t.Logf("%s: %d accepted, %d unique stored, %d documents, %d dropped, spool replayed in %v",
					t.Name(), s.Produced, len(stored), len(srv.Docs("logs-*")), s.Dropped.Total()+s2.Dropped.Total(), took.Round(time.Millisecond))

				if err := shutdownBounded(t, exp2, 10*time.Second); err != nil {
					t.Fatal(err)
				}
				exp3 := faultExporter(t, srv, opts...)
				flush(t, exp3)
				if s3 := exp3.Stats(); s3.Recovered != 0 || s3.Replayed != 0 || len(srv.Docs("logs-*")) != before+during {
					t.Errorf("third process: recovered %d, replayed %d, %d documents stored; want nothing replayed again", s3.Recovered, s3.Replayed, len(srv.Docs("logs-*")))
				}
			})
		}
	}
}

// spoolSegment writes one segment file into a spool directory, as a
// previous run leaves one: a record of size items per entry of froms
// (seq from..from+size-1). It returns the file's path.
func spoolSegment(t *testing.T, dir string, size int, froms ...int) string {
	t.Helper()
	old, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	sp, err := spool.Open(dir, spool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, from := range froms {
		var b strings.Builder
		for i := from; i < from+size; i++ {
			fmt.Fprintf(&b, `{"create":{"_index":"logs-svc-default","_id":"crash-%d"}}`+"\n", i)
			fmt.Fprintf(&b, `{"@timestamp":%s,"message":"m","seq":%d}`+"\n", ts(i), i)
		}
		if err := sp.Append(size, []byte(b.String())); err != nil {
			t.Fatal(err)
		}
	}
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
	now, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	if len(now) != len(old)+1 {
		t.Fatalf("got %d segment files, want %d", len(now), len(old)+1)
	}
	return now[len(now)-1] // names sort by sequence number
}

// errorsSaying counts the errors h got whose text contains s.
func errorsSaying(h *errorSink, s string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, err := range h.errs {
		if strings.Contains(err.Error(), s) {
			n++
		}
	}
	return n
}

// TestCorruptSpoolAtStart starts an exporter on a spool whose middle
// segment is damaged: every record before the damage and every other
// segment is stored once, the damage is counted and reported, a new
// exporter replays nothing again, and nothing stalls.
func TestCorruptSpoolAtStart(t *testing.T) {
	const size = 5 // items per record; 3 records per segment
	cases := []struct {
		name    string
		damage  func(b []byte) []byte
		kept    []int // seqs of the damaged segment that survive
		corrupt bool  // counted and reported as damage
	}{
		{"torn mid-record", func(b []byte) []byte { return b[:len(b)/2] }, rangeInts(100, size), true},
		{"flipped bytes", func(b []byte) []byte {
			mid := len(b) / 2
			b[mid] ^= 0xff
			b[mid+1] ^= 0x5a
			return b
		}, rangeInts(100, size), true},
		{"garbage header", func(b []byte) []byte {
			copy(b, []byte{0xde, 0xad, 0xbe, 0xef, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4})
			return b
		}, nil, true},
		{"huge length", func(b []byte) []byte {
			copy(b, []byte{0xff, 0xff, 0xff, 0xff})
			return b
		}, nil, true},
		{"zero-length file", func(b []byte) []byte { return nil }, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := estest.New(t)
			dir := t.TempDir()
			spoolSegment(t, dir, size, 0, 5, 10)
			damaged := spoolSegment(t, dir, size, 100, 105, 110)
			spoolSegment(t, dir, size, 200, 205, 210)
			b, err := os.ReadFile(damaged)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(damaged, c.damage(b), 0o600); err != nil {
				t.Fatal(err)
			}
			want := append(append(rangeInts(0, 3*size), c.kept...), rangeInts(200, 3*size)...)

			eh := &errorSink{}
			opts := []elasticsearch.Option{elasticsearch.WithSpoolDir(dir), elasticsearch.WithErrorHandler(eh)}
			start := time.Now()
			exp := faultExporter(t, srv, opts...)
			waitReplayed(t, exp, 20*time.Second)
			took := time.Since(start)
			s := exp.Stats()
			assertExactlyOnce(t, storedSeqs(t, srv, "logs-*"), want)
			t.Logf("%s: %d records intact, %d unique stored, %d documents, %d damaged places, replayed in %v",
				t.Name(), len(want), len(storedSeqs(t, srv, "logs-*")), len(srv.Docs("logs-*")), s.SpoolCorrupt, took.Round(time.Millisecond))
			if s.Recovered != int64(len(want)) || s.Delivered != int64(len(want)) || s.Dropped.Total() != 0 {
				t.Errorf("got %+v, want %d recovered and delivered, nothing dropped", s, len(want))
			}
			wantCorrupt := int64(0)
			if c.corrupt {
				wantCorrupt = 1
			}
			if s.SpoolCorrupt != wantCorrupt {
				t.Errorf("got %d damaged records counted, want %d", s.SpoolCorrupt, wantCorrupt)
			}
			if got := errorsSaying(eh, "damaged"); (got > 0) != c.corrupt {
				t.Errorf("got %d errors reporting the damage (%v), want them exactly when there is damage (%v)", got, eh.errs, c.corrupt)
			}
			if err := shutdownBounded(t, exp, 10*time.Second); err != nil {
				t.Fatal(err)
			}
			again := faultExporter(t, srv, opts...)
			flush(t, again)
			if s := again.Stats(); s.Recovered != 0 || s.Replayed != 0 || s.SpoolCorrupt != 0 || len(srv.Docs("logs-*")) != len(want) {
				t.Errorf("a restart recovered %d, replayed %d, counted %d damaged; %d documents stored; want nothing again",
					s.Recovered, s.Replayed, s.SpoolCorrupt, len(srv.Docs("logs-*")))
			}
		})
	}
}

// TestSpoolDamagedWhileRunning: a segment file removed, or damaged,
// after the exporter opened the spool and before it replayed it (an
// operator's clean-up, a failing disk) costs only its own records,
// counted and reported: the segments after it are replayed, new records
// are delivered, and the counters add up.
func TestSpoolDamagedWhileRunning(t *testing.T) {
	const size = 5
	cases := []struct {
		name   string
		damage func(t *testing.T, path string)
		kept   []int
	}{
		{"removed", func(t *testing.T, path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}, nil},
		{"torn", func(t *testing.T, path string) {
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, fi.Size()/2); err != nil {
				t.Fatal(err)
			}
		}, rangeInts(0, size)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := estest.New(t)
			dir := t.TempDir()
			damaged := spoolSegment(t, dir, size, 0, 5, 10)
			spoolSegment(t, dir, size, 100, 105, 110)
			// Templates to install hold the replay back while the
			// server refuses connections: the spool is open, not read.
			setRefused(t, srv, true)
			eh := &errorSink{}
			exp := faultExporter(t, srv, elasticsearch.WithSpoolDir(dir), elasticsearch.WithTemplates(), elasticsearch.WithErrorHandler(eh))
			if s := exp.Stats(); s.Recovered != 6*size {
				t.Fatalf("got %d recovered, want %d", s.Recovered, 6*size)
			}
			c.damage(t, damaged)
			setRefused(t, srv, false)
			seqDocs(t, exp.LogSink(), 1000, 20)
			want := append(append(c.kept, rangeInts(100, 3*size)...), rangeInts(1000, 20)...)
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("stats %+v", exp.Stats())
				}
			})
			waitFor(t, 20*time.Second, "the rest of the spool and the new records delivered", func() bool {
				s := exp.Stats()
				return s.InSpool == 0 && s.InFlight == 0 && s.Delivered == int64(len(want))
			})
			assertExactlyOnce(t, storedSeqs(t, srv, "logs-*"), want)
			s := exp.Stats()
			lost := int64(3*size - len(c.kept))
			// New records may have been spooled behind the old ones, and
			// replayed in turn.
			if s.Dropped.SpoolFull != lost || s.SpoolCorrupt != 1 || s.Replayed != s.Recovered-lost+s.Spooled {
				t.Errorf("got %+v, want the %d records of the damage dropped (spool_full), 1 damaged place, the rest replayed", s, lost)
			}
			if s.Produced+s.Recovered != s.Delivered+s.Duplicates+s.DeadLettered+s.Dropped.Total()+s.InSpool+s.InFlight {
				t.Errorf("stats do not add up: %+v", s)
			}
			if !strings.Contains(s.LastError, "spool") && errorsSaying(eh, "spool") == 0 {
				t.Errorf("got errors %v, last %q; want the damage reported", eh.errs, s.LastError)
			}
		})
	}
}
