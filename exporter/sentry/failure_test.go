package sentry_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/glassbox-obs/glassbox/errors"
	gbsentry "github.com/glassbox-obs/glassbox/exporter/sentry"
	"github.com/glassbox-obs/glassbox/internal/sentrytest"
	"github.com/glassbox-obs/glassbox/middleware"
)

func TestExactlyOneEventPerFailure(t *testing.T) {
	type step func(ctx context.Context, rep *gbsentry.Reporter) *middleware.Outcome
	logErr := func(ctx context.Context, rep *gbsentry.Reporter, err error) {
		logger(rep).ErrorContext(ctx, "failed", "err", err)
	}
	tests := []struct {
		name      string
		opts      []gbsentry.Option
		grpc      bool
		run       step
		want      int
		wantValue string
	}{
		{"panic also logged", []gbsentry.Option{gbsentry.WithLogErrors(true)}, false,
			func(ctx context.Context, rep *gbsentry.Reporter) *middleware.Outcome {
				err := errors.New("nil map write")
				logErr(ctx, rep, err)
				return &middleware.Outcome{Status: 500, Panic: err}
			}, 1, "nil map write"},
		{"ERROR record then 500", nil, false,
			func(ctx context.Context, rep *gbsentry.Reporter) *middleware.Outcome {
				logErr(ctx, rep, errors.New("db timeout"))
				return &middleware.Outcome{Status: 500}
			}, 1, "db timeout"},
		{"ERROR record then 500, log errors on", []gbsentry.Option{gbsentry.WithLogErrors(true)}, false,
			func(ctx context.Context, rep *gbsentry.Reporter) *middleware.Outcome {
				logErr(ctx, rep, errors.New("db timeout"))
				return &middleware.Outcome{Status: 500}
			}, 1, "db timeout"},
		{"two ERROR records, log errors on", []gbsentry.Option{gbsentry.WithLogErrors(true)}, false,
			func(ctx context.Context, rep *gbsentry.Reporter) *middleware.Outcome {
				logErr(ctx, rep, errors.New("first"))
				logErr(ctx, rep, errors.New("second"))
				return &middleware.Outcome{Status: 200}
			}, 1, "first"},
		{"Report then 500", nil, false,
			func(ctx context.Context, rep *gbsentry.Reporter) *middleware.Outcome {
				gbsentry.Report(ctx, errors.New("reported"))
				return &middleware.Outcome{Status: 503}
			}, 1, "reported"},
		{"same error reported twice", nil, false,
			func(ctx context.Context, rep *gbsentry.Reporter) *middleware.Outcome {
				err := errors.New("once")
				a, b := rep.Report(ctx, err), rep.Report(ctx, errors.Wrap(err, "again"))
				if a != b {
					t.Errorf("got IDs %s and %s, want the same", a, b)
				}
				return &middleware.Outcome{Status: 200}
			}, 1, "once"},
		{"HTTP 500 without error", nil, false,
			func(ctx context.Context, rep *gbsentry.Reporter) *middleware.Outcome {
				return &middleware.Outcome{Status: 500}
			}, 1, "HTTP 500 GET /r"},
		{"HTTP 404", nil, false,
			func(ctx context.Context, rep *gbsentry.Reporter) *middleware.Outcome {
				return &middleware.Outcome{Status: 404}
			}, 0, ""},
		{"503 not in the configured statuses", []gbsentry.Option{gbsentry.WithHTTPStatuses(500)}, false,
			func(ctx context.Context, rep *gbsentry.Reporter) *middleware.Outcome {
				return &middleware.Outcome{Status: 503}
			}, 0, ""},
		{"ERROR record, request succeeds", nil, false,
			func(ctx context.Context, rep *gbsentry.Reporter) *middleware.Outcome {
				logErr(ctx, rep, errors.New("handled"))
				return &middleware.Outcome{Status: 200}
			}, 0, ""},
		{"gRPC Internal", nil, true,
			func(ctx context.Context, rep *gbsentry.Reporter) *middleware.Outcome {
				return &middleware.Outcome{GRPCCode: uint32(codes.Internal), Err: fmt.Errorf("rpc error: code = Internal desc = boom")}
			}, 1, "rpc error: code = Internal desc = boom"},
		{"gRPC NotFound", nil, true,
			func(ctx context.Context, rep *gbsentry.Reporter) *middleware.Outcome {
				return &middleware.Outcome{GRPCCode: uint32(codes.NotFound), Err: fmt.Errorf("not found")}
			}, 0, ""},
		{"gRPC NotFound configured", []gbsentry.Option{gbsentry.WithGRPCCodes(codes.NotFound)}, true,
			func(ctx context.Context, rep *gbsentry.Reporter) *middleware.Outcome {
				return &middleware.Outcome{GRPCCode: uint32(codes.NotFound), Err: fmt.Errorf("not found")}
			}, 1, "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := sentrytest.NewServer(t)
			rep := newReporter(t, srv, tt.opts...)
			req := &middleware.Request{Protocol: "http", Method: "GET", Route: "/r", CorrelationID: "c1"}
			if tt.grpc {
				req = &middleware.Request{Protocol: "grpc", Method: "/shop.Orders/Get", Route: "/shop.Orders/Get", CorrelationID: "c1"}
			}
			ctx := rep.Begin(requestCtx("c1"), req)
			out := tt.run(ctx, rep)
			id := rep.End(ctx, req, out)
			evs := events(t, rep, srv, tt.want)
			if tt.want == 0 {
				if id != "" && out.Status != 200 {
					t.Errorf("got event ID %q, want none", id)
				}
				return
			}
			if evs[0]["event_id"] != id {
				t.Errorf("got End ID %q, want the event's %v", id, evs[0]["event_id"])
			}
			exc := exceptions(t, evs[0])
			if got := exc[len(exc)-1]["value"]; got != tt.wantValue {
				t.Errorf("got exception value %v, want %q", got, tt.wantValue)
			}
		})
	}
}

// Two failure sites; the messages embed IDs.
func failOrder(id int) error   { return errors.Errorf("order %d not found", id) }
func failPayment(id int) error { return errors.Errorf("payment %d declined", id) }

func TestGrouping(t *testing.T) {
	srv := sentrytest.NewServer(t)
	rep := newReporter(t, srv, gbsentry.WithAggregationWindow(0)) // every event sent
	fail := func(corr string, err error) {
		req := &middleware.Request{Protocol: "http", Method: "GET", Route: "/orders/{id}", CorrelationID: corr}
		ctx := rep.Begin(requestCtx(corr), req)
		logger(rep).ErrorContext(ctx, "failed", "err", err)
		rep.End(ctx, req, &middleware.Outcome{Status: 500})
	}
	fail("a", failOrder(1001))
	fail("b", failOrder(2002))
	fail("c", failPayment(1001))
	fps := map[string]string{}
	for _, ev := range events(t, rep, srv, 3) {
		fps[str(ev, "tags", "correlation_id")] = fingerprint(ev)
	}
	t.Logf("fingerprints: %v", fps)
	if fps["a"] != fps["b"] {
		t.Errorf("same line, different IDs: got fingerprints %s and %s, want equal", fps["a"], fps["b"])
	}
	if fps["a"] == fps["c"] {
		t.Errorf("different lines: got the same fingerprint %s, want different", fps["a"])
	}
	for k, fp := range fps {
		if contains([]string{fp}, "1001") || contains([]string{fp}, "2002") {
			t.Errorf("%s: fingerprint %s contains an ID from the message", k, fp)
		}
	}
}

func TestRateLimited(t *testing.T) {
	tests := []struct {
		name     string
		limit    sentrytest.Limit
		wantSent bool
	}{
		{"Retry-After", sentrytest.Limit{RetryAfter: 60}, false},
		{"X-Sentry-Rate-Limits error", sentrytest.Limit{RetryAfter: 60, Categories: []string{"error"}, Scope: "project"}, false},
		{"X-Sentry-Rate-Limits all", sentrytest.Limit{RetryAfter: 60, Scope: "organization"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := sentrytest.NewServer(t)
			rep := newReporter(t, srv, gbsentry.WithAggregationWindow(0))
			srv.SetRateLimit(&tt.limit)
			ctx := context.Background()
			rep.Report(ctx, errors.New("first"))
			events(t, rep, srv, 0)
			// Sentry said back off: the next events are dropped before
			// they reach the network.
			for i := range 5 {
				rep.Report(ctx, fmt.Errorf("more %d", i))
			}
			events(t, rep, srv, 0)
			if got := srv.Requests(); got != 1 {
				t.Errorf("got %d requests, want 1 (the rest dropped while backing off)", got)
			}
			st := rep.Stats()
			if st.Queued != 6 || st.DroppedRateLimited != 1 || st.DroppedBackoff != 5 || st.Dropped != 6 || st.Sent != 0 || st.InFlight != 0 {
				t.Errorf("got %+v, want 6 queued: 1 rate limited by Sentry, 5 dropped while backing off", st)
			}
		})
	}
	t.Run("limit on other categories", func(t *testing.T) {
		srv := sentrytest.NewServer(t)
		rep := newReporter(t, srv)
		// Sentry keeps error events and announces the transaction limit.
		srv.SetRateLimit(&sentrytest.Limit{RetryAfter: 60, Categories: []string{"transaction"}, Scope: "project"})
		rep.Report(context.Background(), errors.New("first"))
		events(t, rep, srv, 1)
		rep.Report(context.Background(), errors.New("second"))
		events(t, rep, srv, 2)
		if st := rep.Stats(); st.Sent != 2 || st.Dropped != 0 {
			t.Errorf("got %+v, want 2 sent, none dropped", st)
		}
	})
}

func TestSentryDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	rep, err := gbsentry.New(gbsentry.WithDSN("http://"+sentrytest.PublicKey+"@"+addr+"/"+sentrytest.ProjectID),
		gbsentry.WithErrorHandler(discardErrors{}), gbsentry.WithAggregationWindow(0))
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Shutdown(context.Background())
	for i := range 3 {
		if id := rep.Report(context.Background(), fmt.Errorf("e%d", i)); id == "" {
			t.Errorf("got no event ID")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rep.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if st := rep.Stats(); st.DroppedNetwork != 3 || st.Dropped != 3 || st.InFlight != 0 {
		t.Errorf("got %+v, want 3 dropped on the network", st)
	}
}

func TestSentryServerErrors(t *testing.T) {
	srv := sentrytest.NewServer(t)
	rep := newReporter(t, srv)
	srv.SetStatus(503)
	rep.Report(context.Background(), errors.New("x"))
	events(t, rep, srv, 0)
	if st := rep.Stats(); st.DroppedRejected != 1 || st.Dropped != 1 {
		t.Errorf("got %+v, want 1 rejected", st)
	}
}

// TestSentrySlow: with Sentry hanging, requests and reports return at
// once, what does not fit the queue is dropped and counted, and Shutdown
// returns by its deadline accounting for every event.
func TestSentrySlow(t *testing.T) {
	srv := sentrytest.NewServer(t)
	srv.SetDelay(time.Hour) // released when the server closes
	rep := newReporter(t, srv, gbsentry.WithQueueBytes(2<<10), gbsentry.WithAggregationWindow(0))
	for i := range 10 {
		req := &middleware.Request{Protocol: "http", Method: "GET", Route: "/slow", CorrelationID: fmt.Sprintf("s%d", i)}
		ctx := rep.Begin(requestCtx(req.CorrelationID), req)
		if id := rep.End(ctx, req, &middleware.Outcome{Status: 500}); id == "" {
			t.Errorf("request %d: got no event ID", i)
		}
	}
	st := rep.Stats()
	if st.Queued != 10 || st.DroppedQueueFull < 7 || st.Sent != 0 || st.Dropped+uint64(st.InFlight) != 10 {
		t.Errorf("got %+v, want 10 queued, at least 7 dropped as queue full, the rest in flight", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := rep.Shutdown(ctx); err == nil {
		t.Error("got nil from Shutdown with Sentry hanging, want the deadline error")
	}
	st = rep.Stats()
	if st.InFlight != 0 || st.Dropped != 10 || st.DroppedShutdown != 10-st.DroppedQueueFull {
		t.Errorf("after Shutdown: got %+v, want every event dropped and counted", st)
	}
	// Reports after Shutdown are dropped, never block, never panic.
	rep.Report(context.Background(), errors.New("late"))
	if st := rep.Stats(); st.DroppedShutdown != 10-st.DroppedQueueFull+1 {
		t.Errorf("got %+v, want the late event counted as dropped at shutdown", st)
	}
}
