package middleware_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/glassbox-obs/glassbox/internal/testutil"
	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/middleware"
)

// infoFixture is a fixture whose logger is at INFO, with a flight
// recorder: the production setting the flight recorder is for.
type infoFixture struct {
	*fixture
	rec *log.FlightRecorder
}

func newInfoFixture(t *testing.T, opts ...log.FlightOption) *infoFixture {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	logs := &syncBuffer{}
	rec := log.NewFlightRecorder(opts...)
	logger := slog.New(log.NewHandler(log.WithWriter(logs), log.WithFlightRecorder(rec)))
	return &infoFixture{fixture: &fixture{exp: exp, tp: tp, logs: logs, logger: logger}, rec: rec}
}

func (f *infoFixture) opts(extra ...middleware.Option) []middleware.Option {
	return f.fixture.opts(append([]middleware.Option{middleware.WithFlightRecorder(f.rec)}, extra...)...)
}

// summary is the messages of the records, "*" after a replayed one, and
// the access record's level.
func summary(t *testing.T, recs []map[string]any) string {
	t.Helper()
	var out []string
	for _, r := range recs {
		s, _ := r["message"].(string)
		if r["glassbox.replayed"] == true {
			s += "*"
		}
		if s == "request completed" {
			s += "(" + r["log.level"].(string) + ")"
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}

// The flight recorder on HTTP: a failed request's DEBUG records are
// written before the records of the failure; a successful one's are not.
func TestFlightRecorderHTTP(t *testing.T) {
	tests := []struct {
		name    string
		opts    []middleware.Option
		path    string
		handler http.HandlerFunc
		want    string
	}{
		{"5xx", nil, "/x", func(w http.ResponseWriter, r *http.Request) {
			slog.DebugContext(r.Context(), "a")
			slog.InfoContext(r.Context(), "b")
			slog.DebugContext(r.Context(), "c")
			w.WriteHeader(http.StatusBadGateway)
		}, "b, a*, c*, request completed(error)"},
		{"panic", nil, "/x", func(w http.ResponseWriter, r *http.Request) {
			slog.DebugContext(r.Context(), "a")
			panic("boom")
		}, "a*, panic recovered, request completed(error)"},
		{"ERROR record in a 200", nil, "/x", func(w http.ResponseWriter, r *http.Request) {
			slog.DebugContext(r.Context(), "a")
			slog.ErrorContext(r.Context(), "payment declined")
			slog.DebugContext(r.Context(), "c")
		}, "a*, payment declined, c*, request completed(info)"},
		{"success", nil, "/x", func(w http.ResponseWriter, r *http.Request) {
			slog.DebugContext(r.Context(), "a")
		}, "request completed(info)"},
		{"4xx is not a failure", nil, "/x", func(w http.ResponseWriter, r *http.Request) {
			slog.DebugContext(r.Context(), "a")
			w.WriteHeader(http.StatusNotFound)
		}, "request completed(warn)"},
		{"a status WithStatusLevel makes ERROR", []middleware.Option{middleware.WithStatusLevel(func(s int) slog.Level {
			if s == http.StatusTooManyRequests {
				return slog.LevelError
			}
			return middleware.DefaultStatusLevel(s)
		})}, "/x", func(w http.ResponseWriter, r *http.Request) {
			slog.DebugContext(r.Context(), "a")
			w.WriteHeader(http.StatusTooManyRequests)
		}, "a*, request completed(error)"},
		{"skipped path: no flight", nil, "/healthz", func(w http.ResponseWriter, r *http.Request) {
			slog.DebugContext(r.Context(), "a")
			w.WriteHeader(http.StatusInternalServerError)
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newInfoFixture(t)
			restore := slog.Default()
			slog.SetDefault(f.logger)
			defer slog.SetDefault(restore)
			h := middleware.HTTP(f.opts(tt.opts...)...)(tt.handler)
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", tt.path, nil))
			recs := f.records(t)
			if got := summary(t, recs); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			// Every record of the request has its correlation ID.
			for _, r := range recs {
				if r["correlation.id"] == nil || r["trace.id"] == nil {
					t.Errorf("record without the request's IDs: %v", r)
				}
			}
			st := f.rec.Stats()
			if st.Open != 0 || st.ReservedBytes != 0 {
				t.Errorf("after the request: %+v", st)
			}
		})
	}
}

// A goroutine the handler leaves running cannot log into the finished
// request's Flight: its DEBUG record is disabled as outside any request.
func TestFlightRecorderLateGoroutine(t *testing.T) {
	f := newInfoFixture(t)
	ended := make(chan struct{})
	done := make(chan bool)
	h := middleware.HTTP(f.opts()...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		f.logger.DebugContext(ctx, "in time")
		go func() {
			<-ended
			enabled := f.logger.Enabled(ctx, slog.LevelDebug)
			f.logger.DebugContext(ctx, "late")
			done <- enabled
		}()
		w.WriteHeader(http.StatusInternalServerError)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil))
	close(ended)
	if <-done {
		t.Error("Enabled(DEBUG) for the context of a finished request: true")
	}
	if got, want := summary(t, f.records(t)), "in time*, request completed(error)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// The replay runs before the observers end: an observer sees the
// replayed records already written.
func TestFlightReplayBeforeObservers(t *testing.T) {
	f := newInfoFixture(t)
	obs := &logsAtEnd{logs: f.logs}
	h := middleware.HTTP(f.opts(middleware.WithObservers(obs))...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.logger.DebugContext(r.Context(), "detail")
		w.WriteHeader(http.StatusInternalServerError)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil))
	if !strings.Contains(obs.seen, `"message":"detail"`) {
		t.Errorf("at End the observer saw %q, want the replayed record", obs.seen)
	}
}

type logsAtEnd struct {
	logs *testutil.Buffer
	seen string
}

func (o *logsAtEnd) Begin(ctx context.Context, _ *middleware.Request) context.Context { return ctx }
func (o *logsAtEnd) End(context.Context, *middleware.Request, *middleware.Outcome) string {
	o.seen = o.logs.String()
	return ""
}

// Concurrent requests keep their records apart: a failed request replays
// its own records, all of them, and no other's.
func TestFlightRecorderConcurrentRequests(t *testing.T) {
	f := newInfoFixture(t)
	h := middleware.HTTP(f.opts()...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("id")
		for i := 0; i < 20; i++ {
			f.logger.DebugContext(r.Context(), "step", "req", id)
		}
		if strings.HasPrefix(id, "fail") {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprint("ok-", i)
			if i%2 == 0 {
				id = fmt.Sprint("fail-", i)
			}
			req := httptest.NewRequest("GET", "/x?id="+id, nil)
			req.Header.Set("X-Correlation-ID", id)
			h.ServeHTTP(httptest.NewRecorder(), req)
		}()
	}
	wg.Wait()
	perReq := map[string]int{}
	for _, r := range f.records(t) {
		if r["message"] != "step" {
			continue
		}
		if r["req"] != r["correlation.id"] || r["glassbox.replayed"] != true {
			t.Fatalf("record of %v under correlation ID %v", r["req"], r["correlation.id"])
		}
		perReq[r["req"].(string)]++
	}
	if len(perReq) != 20 {
		t.Errorf("replayed for %d requests, want the 20 that failed", len(perReq))
	}
	for id, n := range perReq {
		if !strings.HasPrefix(id, "fail") || n != 20 {
			t.Errorf("%s: %d records replayed, want 20 of a failed request", id, n)
		}
	}
	if st := f.rec.Stats(); st.Replayed != 400 || st.Discarded != 400 || st.Open != 0 {
		t.Errorf("stats: %+v", st)
	}
}
