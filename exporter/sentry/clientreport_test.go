package sentry_test

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/glassbox-obs/glassbox/errors"
	gbsentry "github.com/glassbox-obs/glassbox/exporter/sentry"
	"github.com/glassbox-obs/glassbox/internal/sentrytest"
	"github.com/glassbox-obs/glassbox/middleware"
)

// reportedByStats is what Sentry must have been told of, by reason,
// according to the Stats counters (written out here, independently of
// the exporter's own mapping).
func reportedByStats(st gbsentry.Stats) map[string]int64 {
	m := map[string]int64{}
	for reason, n := range map[string]uint64{
		"queue_overflow":     st.DroppedQueueFull,
		"ratelimit_backoff":  st.DroppedBackoff,
		"network_error":      st.DroppedNetwork,
		"send_error":         st.DroppedRejected,
		"internal_sdk_error": st.DroppedInternal,
		"sample_rate":        st.SampledOut,
	} {
		if n > 0 {
			m[reason] = int64(n)
		}
	}
	return m
}

// shutdownAndCompare shuts rep down and checks that the client reports
// srv accepted add up, by reason, to rep's Stats.
func shutdownAndCompare(t *testing.T, rep *gbsentry.Reporter, srv *sentrytest.Server) gbsentry.Stats {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rep.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	st := rep.Stats()
	if st.InFlight != 0 || st.Queued != st.Sent+st.Aggregated+st.Dropped {
		t.Errorf("got %+v, want every event accounted for", st)
	}
	got, want := srv.Discarded("error"), reportedByStats(st)
	if !maps.Equal(got, want) {
		t.Errorf("got client reports %v, want %v from %+v", got, want, st)
	}
	return st
}

// reportEnvelopes counts the accepted envelopes with a client report: those
// that also carry an event, and those that carry only the report.
func reportEnvelopes(srv *sentrytest.Server) (withEvent, alone int) {
	for _, e := range srv.Envelopes() {
		if len(e.ClientReports()) == 0 {
			continue
		}
		if len(e.Events()) > 0 || len(e.RateLimited) > 0 {
			withEvent++
		} else {
			alone++
		}
	}
	return withEvent, alone
}

func fail(rep *gbsentry.Reporter, i int) string {
	req := &middleware.Request{Protocol: "http", Method: "GET", Route: "/r", CorrelationID: fmt.Sprintf("c%d", i)}
	ctx := rep.Begin(requestCtx(req.CorrelationID), req)
	return rep.End(ctx, req, &middleware.Outcome{Status: 500})
}

func flush(t *testing.T, rep *gbsentry.Reporter) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rep.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

// TestClientReportQueueOverflow: events dropped because the queue was full
// reach Sentry as queue_overflow, with the next envelope.
func TestClientReportQueueOverflow(t *testing.T) {
	srv := sentrytest.NewServer(t)
	srv.Pause()
	rep := newReporter(t, srv, gbsentry.WithQueueBytes(2<<10), gbsentry.WithAggregationWindow(0))
	for i := range 10 {
		fail(rep, i)
	}
	srv.Resume()
	flush(t, rep)
	fail(rep, 10) // sent after every drop: carries what is still pending
	flush(t, rep)
	st := shutdownAndCompare(t, rep, srv)
	if st.DroppedQueueFull < 7 {
		t.Errorf("got %+v, want most of 10 events dropped as queue full", st)
	}
	if with, alone := reportEnvelopes(srv); with == 0 || alone != 0 {
		t.Errorf("got %d envelopes with an event and a report, %d with a report alone; want the reports attached to events", with, alone)
	}
}

// TestClientReportRateLimit: events dropped while backing off Sentry's
// rate limit are reported as ratelimit_backoff; the event Sentry answered
// 429 is not (Sentry recorded it). The report goes at Shutdown, although
// the limit still holds: client reports are never rate limited.
func TestClientReportRateLimit(t *testing.T) {
	for _, tt := range []struct {
		name  string
		limit sentrytest.Limit
	}{
		{"Retry-After", sentrytest.Limit{RetryAfter: 60}},
		{"X-Sentry-Rate-Limits error", sentrytest.Limit{RetryAfter: 60, Categories: []string{"error"}, Scope: "project"}},
		{"X-Sentry-Rate-Limits all", sentrytest.Limit{RetryAfter: 60, Scope: "organization"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := sentrytest.NewServer(t)
			rep := newReporter(t, srv, gbsentry.WithAggregationWindow(0))
			srv.SetRateLimit(&tt.limit)
			fail(rep, 0)
			flush(t, rep)
			for i := range 5 {
				fail(rep, i+1)
			}
			flush(t, rep)
			st := shutdownAndCompare(t, rep, srv)
			if st.DroppedRateLimited != 1 || st.DroppedBackoff != 5 {
				t.Errorf("got %+v, want 1 rate limited by Sentry, 5 backing off", st)
			}
			if _, alone := reportEnvelopes(srv); alone != 1 {
				t.Errorf("got %d report-only envelopes, want the one of Shutdown", alone)
			}
		})
	}
	t.Run("report with an event under the limit", func(t *testing.T) {
		// Sentry keeps the report, drops the event and says 200 with
		// X-Sentry-Rate-Limits: the event is rate limited, not sent.
		srv := sentrytest.NewServer(t)
		rep := newReporter(t, srv, gbsentry.WithAggregationWindow(0))
		srv.SetHangUp(true)
		fail(rep, 0)
		flush(t, rep)
		srv.SetHangUp(false)
		srv.SetRateLimit(&sentrytest.Limit{RetryAfter: 60, Categories: []string{"error"}, Scope: "project"})
		fail(rep, 1)
		flush(t, rep)
		if n := len(srv.Events()); n != 0 {
			t.Fatalf("got %d events accepted under the limit", n)
		}
		st := shutdownAndCompare(t, rep, srv)
		if st.Sent != 0 || st.DroppedRateLimited != 1 || st.DroppedNetwork != 1 {
			t.Errorf("got %+v, want 1 lost on the network, 1 rate limited by Sentry", st)
		}
		if with, alone := reportEnvelopes(srv); with != 1 || alone != 0 {
			t.Errorf("got %d envelopes with an event and a report, %d alone; want the report with the rate-limited event", with, alone)
		}
	})
}

// TestClientReportNetworkError: events lost on the network are reported
// as network_error; a report whose own envelope was lost goes with the
// next one.
func TestClientReportNetworkError(t *testing.T) {
	srv := sentrytest.NewServer(t)
	rep := newReporter(t, srv, gbsentry.WithAggregationWindow(0))
	srv.SetHangUp(true)
	for i := range 3 {
		fail(rep, i)
		flush(t, rep) // one at a time: the second and third carry a report, lost too
	}
	srv.SetHangUp(false)
	fail(rep, 3)
	flush(t, rep)
	if got := srv.Discarded("error"); got["network_error"] != 3 {
		t.Errorf("before Shutdown: got %v, want network_error: 3 with the fourth event", got)
	}
	st := shutdownAndCompare(t, rep, srv)
	if st.DroppedNetwork != 3 || st.Sent != 1 {
		t.Errorf("got %+v, want 3 lost on the network, 1 sent", st)
	}
	if with, alone := reportEnvelopes(srv); with != 1 || alone != 0 {
		t.Errorf("got %d envelopes with an event and a report, %d alone; want one, with the event", with, alone)
	}
}

// TestClientReportSendError: events Sentry refused with a 4xx or 5xx other
// than 429 are reported as send_error; with nothing sent afterwards, the
// report goes alone at Shutdown.
func TestClientReportSendError(t *testing.T) {
	for _, status := range []int{400, 413, 503} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			srv := sentrytest.NewServer(t)
			rep := newReporter(t, srv, gbsentry.WithAggregationWindow(0))
			srv.SetStatus(status)
			fail(rep, 0)
			flush(t, rep)
			fail(rep, 1) // carries send_error: 1, refused with it
			flush(t, rep)
			srv.SetStatus(0)
			st := shutdownAndCompare(t, rep, srv)
			if st.DroppedRejected != 2 {
				t.Errorf("got %+v, want 2 rejected", st)
			}
			if _, alone := reportEnvelopes(srv); alone != 1 {
				t.Errorf("got %d report-only envelopes, want the one of Shutdown", alone)
			}
		})
	}
}

// TestClientReportSampleRate: sampled-out events are reported as
// sample_rate, with the events that are sent and at Shutdown.
func TestClientReportSampleRate(t *testing.T) {
	srv := sentrytest.NewServer(t)
	rep := newReporter(t, srv, gbsentry.WithSampleRate(0.5), gbsentry.WithAggregationWindow(0))
	for i := range 40 {
		fail(rep, i)
	}
	flush(t, rep)
	st := shutdownAndCompare(t, rep, srv)
	if st.SampledOut == 0 || st.SampledOut == 40 {
		t.Errorf("got %+v, want about half of 40 events sampled out", st)
	}
}

// TestAggregatedEventsAreNotDiscards: events folded into an aggregation
// window reach Sentry as the count of the window's summary; no client
// report calls them lost.
func TestAggregatedEventsAreNotDiscards(t *testing.T) {
	srv := sentrytest.NewServer(t)
	rep := newReporter(t, srv, gbsentry.WithAggregationWindow(time.Hour))
	for range 10 {
		rep.Report(context.Background(), failKind0())
	}
	st := shutdownAndCompare(t, rep, srv)
	if st.Aggregated != 8 || st.Sent != 2 {
		t.Errorf("got %+v, want 2 sent (the first and the summary), 8 aggregated", st)
	}
	if reps := srv.ClientReports(); len(reps) != 0 {
		t.Errorf("got client reports %+v, want none", reps)
	}
	evs := srv.Events()
	if len(evs) != 2 || str(evs[1], "tags", "aggregated") != "9" {
		t.Errorf("got %d events, summary tag aggregated=%q; want the summary to stand for 9", len(evs), str(evs[len(evs)-1], "tags", "aggregated"))
	}
}

// TestClientReportsOff: WithClientReports(false) sends none.
func TestClientReportsOff(t *testing.T) {
	srv := sentrytest.NewServer(t)
	rep := newReporter(t, srv, gbsentry.WithClientReports(false), gbsentry.WithAggregationWindow(0))
	srv.SetStatus(503)
	fail(rep, 0)
	flush(t, rep)
	srv.SetStatus(0)
	fail(rep, 1)
	flush(t, rep)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rep.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if st := rep.Stats(); st.DroppedRejected != 1 || st.Sent != 1 {
		t.Errorf("got %+v, want 1 rejected, 1 sent", st)
	}
	if reps := srv.ClientReports(); len(reps) != 0 {
		t.Errorf("got client reports %+v, want none", reps)
	}
	if got := srv.Requests(); got != 2 {
		t.Errorf("got %d requests, want 2 (no report at Shutdown)", got)
	}
}

// panicky is an error whose Unwrap method panics.
type panicky struct{}

func (panicky) Error() string { return "panicky" }
func (panicky) Unwrap() error { panic("Unwrap panicked") }

// TestInternalFailureCounted: an event lost while it was built (here, to
// an error whose Unwrap method panics) is counted and reported as
// internal_sdk_error; the reporter goes on.
func TestInternalFailureCounted(t *testing.T) {
	srv := sentrytest.NewServer(t)
	rep := newReporter(t, srv)
	if id := rep.Report(context.Background(), panicky{}); id != "" {
		t.Errorf("got event ID %q for an event that could not be built, want none", id)
	}
	if st := rep.Stats(); st.Queued != 1 || st.DroppedInternal != 1 || st.InFlight != 0 {
		t.Errorf("got %+v, want the event queued and dropped as an internal failure", st)
	}
	rep.Report(context.Background(), errors.New("next"))
	flush(t, rep)
	if got := srv.Discarded("error"); got["internal_sdk_error"] != 1 {
		t.Errorf("got %v, want internal_sdk_error: 1 with the next event", got)
	}
	shutdownAndCompare(t, rep, srv)
}
