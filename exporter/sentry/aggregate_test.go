package sentry_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/glassbox-obs/glassbox/errors"
	gbsentry "github.com/glassbox-obs/glassbox/exporter/sentry"
	"github.com/glassbox-obs/glassbox/middleware"
)

// Five failure sites: five fingerprints.
func failKind0() error { return errors.New("ledger down") }
func failKind1() error { return errors.New("card declined") }
func failKind2() error { return errors.New("stock missing") }
func failKind3() error { return errors.New("address invalid") }
func failKind4() error { return errors.New("tax service slow") }

var failKinds = []func() error{failKind0, failKind1, failKind2, failKind3, failKind4}

// TestBurstOfFiveKinds: 1,000 failing requests of 5 kinds, fired as fast
// as 20 clients can, with a healthy Sentry and with one that hangs. Every
// request completes (none waits for Sentry), the queue keeps room for
// every kind, and once Sentry answers: each kind's first event arrives,
// the rest are counted as aggregated, and Shutdown sends each kind's
// summary with the count; every report is accounted for, none dropped.
func TestBurstOfFiveKinds(t *testing.T) {
	t.Run("sentry healthy", func(t *testing.T) { burstOfFiveKinds(t, false) })
	t.Run("sentry hanging", func(t *testing.T) { burstOfFiveKinds(t, true) })
}

func burstOfFiveKinds(t *testing.T, hanging bool) {
	const requests, clients = 1000, 20
	// Default aggregation window (1 minute) and queue. The send timeout
	// outlasts the burst, however slow the machine, so a paused server
	// cannot turn the first sends into network drops.
	s := newStack(t, gbsentry.WithTimeout(5*time.Minute))
	if hanging {
		s.srv.Pause()
	}
	ts := httptest.NewServer(middleware.HTTP(s.mwOpts...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k, _ := strconv.Atoi(r.URL.Query().Get("kind"))
		s.logger.ErrorContext(r.Context(), "failed", "err", failKinds[k]())
		w.WriteHeader(http.StatusInternalServerError)
	})))
	defer ts.Close()

	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				resp, err := http.Get(ts.URL + "/pay?kind=" + strconv.Itoa(i%len(failKinds)))
				if err != nil {
					t.Error(err)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				statuses[resp.StatusCode]++
				mu.Unlock()
			}
		}()
	}
	start := time.Now()
	for i := range requests {
		next <- i
	}
	close(next)
	wg.Wait() // with Sentry hanging, no request waited for it
	t.Logf("%d requests in %v, Sentry hanging: %v", requests, time.Since(start), hanging)
	if statuses[500] != requests {
		t.Fatalf("got statuses %v, want %d times 500", statuses, requests)
	}
	st := s.rep.Stats()
	if st.Queued != requests || st.Dropped != 0 || st.Aggregated != requests-2*5 {
		t.Errorf("during the burst: got %+v, want %d queued, none dropped, the first two of each kind not aggregated", st, requests)
	}
	if hanging && st.InFlight != 10 {
		t.Errorf("during the burst: got %d in flight, want 10 (5 sent, 5 held)", st.InFlight)
	}

	s.srv.Resume()
	firsts := events(t, s.rep, s.srv, 5)
	if got := kinds(t, firsts); len(got) != 5 {
		t.Errorf("got kinds %v, want all 5", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.rep.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	all := s.srv.Events()
	if len(all) != 10 {
		t.Fatalf("got %d events after Shutdown, want 10 (5 first, 5 summaries)", len(all))
	}
	counted := 0
	perKind := map[string]int{}
	for _, ev := range all {
		n := 1
		if tag := str(ev, "tags", "aggregated"); tag != "" {
			n, _ = strconv.Atoi(tag)
			if str(ev, "contexts", "aggregation", "window") != "1m0s" {
				t.Errorf("got aggregation context %v", ev["contexts"].(map[string]any)["aggregation"])
			}
		}
		counted += n
		exc := exceptions(t, ev)
		perKind[str(exc[len(exc)-1], "value")] += n
	}
	if counted != requests {
		t.Errorf("got %d failures counted in the events, want %d: %v", counted, requests, perKind)
	}
	for k, n := range perKind {
		if n != requests/5 {
			t.Errorf("%s: got %d counted, want %d", k, n, requests/5)
		}
	}
	st = s.rep.Stats()
	if st.Queued != requests || st.Sent != 10 || st.Aggregated != requests-10 || st.Dropped != 0 || st.InFlight != 0 {
		t.Errorf("after Shutdown: got %+v, want %d = 10 sent + %d aggregated", st, requests, requests-10)
	}
}

func kinds(t *testing.T, evs []map[string]any) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, ev := range evs {
		exc := exceptions(t, ev)
		out[str(exc[len(exc)-1], "value")] = true
	}
	return out
}

// TestAggregationWindowCloses: the window's summary is sent when its
// timer fires, with the count; the next failure opens a new window and
// is sent at once. Reports of aggregated failures return the ID of the
// window's first event.
func TestAggregationWindowCloses(t *testing.T) {
	s := newStack(t, gbsentry.WithAggregationWindow(50*time.Millisecond))
	ctx := context.Background()
	ids := make([]string, 4)
	for i := range ids {
		ids[i] = s.rep.Report(ctx, failKind0())
	}
	if ids[0] == "" || ids[1] != ids[0] || ids[2] != ids[0] || ids[3] != ids[0] {
		t.Errorf("got IDs %q, want the first event's ID for all", ids)
	}
	evs := s.srv.WaitEvents(t, 2, 10*time.Second) // the first, then the summary
	if evs[0]["event_id"] != ids[0] || str(evs[0], "tags", "aggregated") != "" {
		t.Errorf("got first event %v tags %v, want %s without a count", evs[0]["event_id"], evs[0]["tags"], ids[0])
	}
	if got := str(evs[1], "tags", "aggregated"); got != "3" {
		t.Errorf("got summary tag aggregated=%q, want 3", got)
	}
	if got := str(evs[1], "contexts", "aggregation", "first_event_id"); got != ids[0] {
		t.Errorf("got first_event_id %q, want %s", got, ids[0])
	}
	if fingerprint(evs[0]) != fingerprint(evs[1]) {
		t.Errorf("got fingerprints %s and %s, want the same issue", fingerprint(evs[0]), fingerprint(evs[1]))
	}
	again := s.rep.Report(ctx, failKind0())
	evs = events(t, s.rep, s.srv, 3)
	if again == ids[0] || evs[2]["event_id"] != again {
		t.Errorf("after the window: got ID %s and event %v, want a new event sent at once", again, evs[2]["event_id"])
	}
	st := s.rep.Stats()
	if st.Queued != 5 || st.Sent != 3 || st.Aggregated != 2 || st.InFlight != 0 {
		t.Errorf("got %+v, want 5 queued = 3 sent + 2 aggregated", st)
	}
}

// TestQueueBoundedInBytes: with Sentry hanging, events are dropped once
// the queue's bytes are used, whatever their number, and counted.
func TestQueueBoundedInBytes(t *testing.T) {
	s := newStack(t, gbsentry.WithQueueBytes(32<<10), gbsentry.WithAggregationWindow(0))
	s.srv.Pause()
	big := fmt.Sprintf("%01000d", 0)
	for i := range 100 {
		req := &middleware.Request{Protocol: "http", Method: "GET", Route: "/r", CorrelationID: "q" + strconv.Itoa(i)}
		ctx := s.rep.Begin(requestCtx(req.CorrelationID), req)
		for j := range 10 {
			s.logger.InfoContext(ctx, "step", "j", j, "pad", big)
		}
		s.rep.End(ctx, req, &middleware.Outcome{Status: 500})
	}
	st := s.rep.Stats()
	// An event with 10 breadcrumbs of 1 KB is about 12 KB: two or three fit.
	if st.Queued != 100 || st.DroppedQueueFull < 95 || st.Dropped+uint64(st.InFlight) != 100 {
		t.Errorf("got %+v, want at most a few of 100 events queued in 32 KiB, the rest dropped as queue full", st)
	}
	s.srv.Resume()
	events(t, s.rep, s.srv, int(st.InFlight))
}
