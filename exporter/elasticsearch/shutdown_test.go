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
			ht.unblock()
			waitFor(t, 10*time.Second, "every record to be accounted for", func() bool {
				s := exp.Stats()
				return s.Produced == 301 && s.Delivered+s.Spooled+s.Dropped.Total() == 301
			})
			s := exp.Stats()
			if s.Dropped.Shutdown == 0 {
				t.Errorf("got no Dropped.Shutdown, want the hung request's records counted (stats %+v)", s)
			}
			if withSpool && s.Spooled == 0 {
				t.Errorf("got nothing spooled, want what the free worker held spooled (stats %+v)", s)
			}
		})
	}
}
