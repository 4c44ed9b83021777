package elasticsearch_test

import (
	"os"
	"testing"
	"time"

	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/internal/estest"
)

// TestRecoveryAfterRefusalWaitsOnlyForTheProbe proves the recovery bound
// structurally, on a fake clock: while Elasticsearch refuses connections
// the only timed wait is the prober's, never more than a second; once it
// accepts again, one probe interval later everything is delivered without
// any more (simulated) time passing, so no sender was left sleeping in a
// backoff. (Before, each worker slept in a backoff of up to 30 s holding
// its batch.) TestRecoveryAfterRefusalMeasured gives the real figure.
func TestRecoveryAfterRefusalWaitsOnlyForTheProbe(t *testing.T) {
	for _, withSpool := range []bool{false, true} {
		name := "memory"
		if withSpool {
			name = "spool"
		}
		t.Run(name, func(t *testing.T) {
			srv := estest.New(t)
			clk := elasticsearch.NewFakeClock()
			opts := []elasticsearch.Option{
				elasticsearch.WithClock(clk),
				elasticsearch.WithBackoff(100*time.Millisecond, 30*time.Second), // the defaults, stated
				elasticsearch.WithMaxElapsedTime(time.Hour),
				elasticsearch.WithFlushBytes(2 << 10),
			}
			if withSpool {
				opts = append(opts, elasticsearch.WithSpoolDir(t.TempDir()))
			}
			exp := faultExporter(t, srv, opts...)
			if c := elasticsearch.ProbeCap(exp); c != time.Second {
				t.Fatalf("got a probe cap of %v, want 1s", c)
			}
			sink := exp.LogSink()
			seqDocs(t, sink, 0, 10)
			flush(t, exp)
			if err := srv.SetRefused(true); err != nil {
				t.Fatal(err)
			}
			seqDocs(t, sink, 10, 50)
			waitFor(t, 10*time.Second, "the cluster to be found unreachable", func() bool { return elasticsearch.Unreachable(exp) })
			// The workers' waits (up to the maximum elapsed time, an hour)
			// are not timed retries; every other wait must be a probe's.
			// A probe wait pending means the previous probe has ended (failed).
			// Forty rounds would take any exponential backoff from 100 ms far
			// past the cap: only the probe may wait.
			short := func(d time.Duration) bool { return d < time.Hour }
			for i := 1; ; i++ {
				d := clk.AwaitTimer(t, short)
				for _, p := range clk.Pending(short) {
					if p > time.Second {
						t.Fatalf("round %d: a wait of %v is pending while unreachable, want none beyond the 1s probe cap", i, p)
					}
				}
				if i == 40 {
					if err := srv.SetRefused(false); err != nil {
						t.Fatal(err)
					}
					clk.Advance(d) // this probe finds the server
					break
				}
				clk.Advance(d) // the probe runs, and fails: refused
			}
			// No simulated time passes from here on.
			waitFor(t, 20*time.Second, "every record delivered without another timed wait", func() bool {
				s := exp.Stats()
				return s.Delivered == 60
			})
			assertExactlyOnce(t, storedSeqs(t, srv, "logs-*"), rangeInts(0, 60))
		})
	}
}

// TestRecoveryAfterRefusalMeasured logs how long after the test server
// accepts connections again the first record is delivered, with the real
// clock and default backoff, after a refusal of 3 s
// (GLASSBOX_TEST_REFUSAL=15s reproduces the scenario). It asserts
// no time: the bound is proven above.
func TestRecoveryAfterRefusalMeasured(t *testing.T) {
	for _, withSpool := range []bool{false, true} {
		name := "memory"
		if withSpool {
			name = "spool"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := estest.New(t)
			opts := []elasticsearch.Option{elasticsearch.WithBackoff(100*time.Millisecond, 30*time.Second), elasticsearch.WithFlushBytes(16 << 10)}
			if withSpool {
				opts = append(opts, elasticsearch.WithSpoolDir(t.TempDir()))
			}
			exp := faultExporter(t, srv, opts...)
			sink := exp.LogSink()
			if err := srv.SetRefused(true); err != nil {
				t.Fatal(err)
			}
			n := writeDuring(t, sink, refusal(t))
			if err := srv.SetRefused(false); err != nil {
				t.Fatal(err)
			}
			back := time.Now()
			waitFor(t, 60*time.Second, "the first delivery", func() bool { return exp.Stats().Delivered > 0 })
			first := time.Since(back)
			waitFor(t, 60*time.Second, "every record", func() bool {
				s := exp.Stats()
				return s.Delivered+s.Dropped.Total() == int64(n)
			})
			t.Logf("first record delivered %v after the server accepted connections again (%d records, all %v later)",
				first.Round(time.Millisecond), n, time.Since(back).Round(time.Millisecond))
			if s := exp.Stats(); s.Dropped.Total() != 0 {
				t.Errorf("got %+v dropped, want none", s.Dropped)
			}
		})
	}
}

func refusal(t *testing.T) time.Duration {
	if v := os.Getenv("GLASSBOX_TEST_REFUSAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	return 3 * time.Second
}
