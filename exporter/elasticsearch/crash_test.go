package elasticsearch_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/internal/estest"
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
				waitFor(t, 20*time.Second, "the spool to be replayed", func() bool {
					s := exp2.Stats()
					return s.Replayed == s.Recovered && s.InSpool == 0
				})
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
