package elasticsearch_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/internal/estest"
	"github.com/glassbox-obs/glassbox/log"
)

// TestFlushUnderSteadyTrafficReturns checks that Flush waits for the
// records written before it, not for an empty queue: a writer that never
// stops must not hold it up until its deadline.
func TestFlushUnderSteadyTrafficReturns(t *testing.T) {
	srv := estest.New(t)
	srv.SetDelay(20 * time.Millisecond) // every bulk request takes a while
	// Block: the writer is slowed by the queue instead of dropping, so the
	// queue is never empty while it runs.
	exp := faultExporter(t, srv, elasticsearch.WithFlushBytes(8<<10), elasticsearch.WithQueueBytes(128<<10), elasticsearch.Block())
	sink := exp.LogSink()
	seqDocs(t, sink, 0, 200)

	const writerBase = 1_000_000
	var written atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		pad := strings.Repeat("x", 200)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			doc := fmt.Sprintf(`{"@timestamp":%s,"message":"m","seq":%d,"pad":"%s"}`+"\n", ts(i), writerBase+i, pad)
			_ = sink.Write(context.Background(), &log.Entry{Time: time.Now(), Doc: []byte(doc)})
			written.Store(int64(i + 1))
		}
	}()
	defer func() { close(stop); wg.Wait() }()
	waitFor(t, 10*time.Second, "the writer to be under way", func() bool { return written.Load() > 500 })

	before := int(written.Load()) // every one of these Writes has returned
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res := make(chan error, 1)
	go func() { res <- exp.Flush(ctx) }()
	var err error
	select {
	case err = <-res:
	case <-ctx.Done():
		t.Fatalf("Flush did not return by its deadline while another goroutine kept writing (stats %+v)", exp.Stats())
	}
	if err != nil {
		t.Fatalf("got Flush error %v, want nil", err)
	}
	stored := storedSeqs(t, srv, "logs-*")
	for _, s := range append(rangeInts(0, 200), rangeInts(writerBase, before)...) {
		if stored[s] != 1 {
			t.Fatalf("seq %d written before Flush was stored %d times when Flush returned, want 1", s, stored[s])
		}
	}
}

// TestFlushWaitsForEarlierRecords checks that Flush does not return before
// what was written earlier is settled.
func TestFlushWaitsForEarlierRecords(t *testing.T) {
	srv := estest.New(t)
	srv.SetDelay(50 * time.Millisecond)
	srv.FailItems(30, 429) // some items need a retry (a new batch of the same generation)
	exp := faultExporter(t, srv, elasticsearch.WithFlushBytes(4<<10), elasticsearch.WithFlushInterval(time.Hour))
	seqDocs(t, exp.LogSink(), 0, 300)
	flush(t, exp)
	if s := exp.Stats(); s.Delivered != 300 {
		t.Fatalf("got %d delivered when Flush returned, want 300 (stats %+v)", s.Delivered, s)
	}
	assertExactlyOnce(t, storedSeqs(t, srv, "logs-*"), rangeInts(0, 300))
}

// hangingTransport passes requests to the test server, except the first
// bulk request after hang is set: that one it holds, ignoring cancellation
// (as a broken proxy or transport would), until release is closed.
type hangingTransport struct {
	base    *http.Transport
	hang    atomic.Bool
	entered chan struct{} // closed when the hung request arrived
	release chan struct{}
	once    sync.Once
}

func newHangingTransport(t *testing.T) *hangingTransport {
	h := &hangingTransport{base: http.DefaultTransport.(*http.Transport).Clone(), entered: make(chan struct{}), release: make(chan struct{})}
	t.Cleanup(func() { h.unblock(); h.base.CloseIdleConnections() })
	return h
}

func (h *hangingTransport) unblock() {
	select {
	case <-h.release:
	default:
		close(h.release)
	}
}

func (h *hangingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == "/_bulk" && h.hang.Load() {
		first := false
		h.once.Do(func() { first = true })
		if first {
			close(h.entered)
			<-h.release
			if r.Body != nil {
				_ = r.Body.Close()
			}
			return nil, errors.New("hanging transport: released")
		}
	}
	return h.base.RoundTrip(r)
}

// TestShutdownIsBoundedWhenAWorkerHangs: a request that ignores
// cancellation must not keep Shutdown past its deadline and grace; what it
// holds is counted once it ends, the rest is spooled (or dropped, counted).
func TestShutdownIsBoundedWhenAWorkerHangs(t *testing.T) {
	for _, withSpool := range []bool{true, false} {
		t.Run(fmt.Sprintf("spool=%v", withSpool), func(t *testing.T) {
			srv := estest.New(t)
			ht := newHangingTransport(t)
			opts := []elasticsearch.Option{elasticsearch.WithTransport(ht), elasticsearch.WithFlushBytes(4 << 10)}
			if withSpool {
				opts = append(opts, elasticsearch.WithSpoolDir(t.TempDir()))
			}
			exp := faultExporter(t, srv, opts...)
			sink := exp.LogSink()
			seqDocs(t, sink, 0, 1) // the product check and one bulk go through
			flush(t, exp)

			ht.hang.Store(true)
			srv.SetDelay(time.Hour) // the other requests wait on a slow server
			defer srv.SetDelay(0)
			seqDocs(t, sink, 1, 300)
			<-ht.entered

			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			res := make(chan error, 1)
			go func() { res <- exp.Shutdown(ctx) }()
			// Without a bound Shutdown waits for the hung request, which
			// only ends at ht.unblock: far past this.
			limit := time.NewTimer(10 * time.Second)
			defer limit.Stop()
			var err error
			select {
			case err = <-res:
			case <-limit.C:
				ht.unblock()
				t.Fatalf("Shutdown with a 200ms deadline did not return while a request hung")
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("got Shutdown error %v, want one wrapping context.DeadlineExceeded", err)
			}
			// When Shutdown returns every record is settled, the hung
			// request's included, and nothing counts twice when it ends.
			s := exp.Stats()
			if s.InFlight != 0 || s.Produced != 301 || s.Delivered+s.Spooled+s.Dropped.Total() != 301 {
				t.Errorf("when Shutdown returned: got %+v, want nothing in flight and 301 = delivered + spooled + dropped", s)
			}
			ht.unblock()
			select {
			case <-elasticsearch.Finished(exp):
			case <-time.After(10 * time.Second):
				t.Fatalf("the hung worker did not end once released")
			}
			if after := exp.Stats(); after.Delivered != s.Delivered || after.Spooled != s.Spooled || after.Dropped != s.Dropped {
				t.Errorf("counters changed after Shutdown returned: %+v, then %+v", s, after)
			}
			if s.Dropped.Shutdown == 0 {
				t.Errorf("got no Dropped.Shutdown, want the hung request's records counted (stats %+v)", s)
			}
			if withSpool && s.Spooled == 0 {
				t.Errorf("got nothing spooled, want what the free worker held spooled (stats %+v)", s)
			}
		})
	}
}

// TestShutdownLeavesNothingInFlight: whatever state Elasticsearch is in,
// when Shutdown returns by its deadline nothing is in flight and every
// record is delivered, waits in the spool, or is counted lost by reason.
func TestShutdownLeavesNothingInFlight(t *testing.T) {
	cases := []struct {
		name     string
		spool    elasticsearch.SpoolMode // "" for none
		refuse   bool                    // else every request hangs
		wantLost func(elasticsearch.Stats) int64
	}{
		{"refused, no spool", "", true, func(s elasticsearch.Stats) int64 { return s.Dropped.Shutdown }},
		{"hanging, no spool", "", false, func(s elasticsearch.Stats) int64 { return s.Dropped.Shutdown }},
		{"refused, spool on failure", elasticsearch.SpoolOnFailure, true, nil},
		{"hanging, spool on failure", elasticsearch.SpoolOnFailure, false, nil},
		{"refused, spool always", elasticsearch.SpoolAlways, true, nil},
		{"hanging, spool always", elasticsearch.SpoolAlways, false, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := estest.New(t)
			opts := []elasticsearch.Option{elasticsearch.WithFlushBytes(4 << 10)}
			if c.spool != "" {
				opts = append(opts, elasticsearch.WithSpoolDir(t.TempDir()), elasticsearch.WithSpoolMode(c.spool))
			}
			exp := faultExporter(t, srv, opts...)
			sink := exp.LogSink()
			seqDocs(t, sink, 0, 20)
			flush(t, exp)
			if c.refuse {
				if err := srv.SetRefused(true); err != nil {
					t.Fatal(err)
				}
			} else {
				srv.SetDelay(time.Hour)
				defer srv.SetDelay(0)
			}
			seqDocs(t, sink, 20, 300)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			// With a spool, refused batches are spooled at once: Shutdown
			// may finish before its deadline.
			if err := exp.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("got Shutdown error %v, want nil or the deadline's", err)
			}
			s := exp.Stats()
			if s.InFlight != 0 {
				t.Errorf("got %d in flight after Shutdown, want 0 (%+v)", s.InFlight, s)
			}
			if s.Produced != 320 || s.Produced != s.Delivered+s.Duplicates+s.DeadLettered+s.Dropped.Total()+s.InSpool {
				t.Errorf("got %+v: want 320 produced = delivered + duplicates + dead-lettered + dropped + in the spool", s)
			}
			if c.wantLost != nil {
				if got := c.wantLost(s); got != 300 || s.Dropped.Total() != 300 {
					t.Errorf("got %+v dropped, want the 300 undelivered records as Dropped.Shutdown", s.Dropped)
				}
			} else if s.InSpool != 300 || s.Dropped.Total() != 0 {
				t.Errorf("got %d in the spool, %+v dropped; want all 300 undelivered records in the spool", s.InSpool, s.Dropped)
			}
		})
	}
}
