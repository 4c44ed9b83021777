package middleware_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/glassbox-obs/glassbox/internal/testutil"
	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/middleware"
)

// samplingServer is an HTTP middleware with outcome-aware sampling whose
// TracerProvider samples with sampler; the handler answers the status in
// the path ("/500").
func samplingServer(t *testing.T, sampler sdktrace.Sampler, every int, slow time.Duration) (http.Handler, *syncBuffer) {
	t.Helper()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	logs := &syncBuffer{}
	logger := slog.New(log.NewHandler(log.WithWriter(logs)))
	h := middleware.HTTP(middleware.WithTracerProvider(tp), middleware.WithLogger(logger), middleware.WithAccessSampling(every, slow))(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var status int
			_, _ = fmt.Sscanf(r.URL.Path, "/%d", &status)
			w.WriteHeader(status)
		}))
	return h, logs
}

func serve(h http.Handler, path, traceparent string) {
	req := httptest.NewRequest("GET", path, nil)
	if traceparent != "" {
		req.Header.Set("traceparent", traceparent)
	}
	h.ServeHTTP(httptest.NewRecorder(), req)
}

// Unsampled successful requests keep 1 in N access records, each
// carrying the rate; failures and warnings are never dropped.
func TestAccessSamplingKeepsFailures(t *testing.T) {
	h, logs := samplingServer(t, sdktrace.NeverSample(), 4, 0)
	for i := 0; i < 400; i++ {
		serve(h, "/200", "")
		serve(h, "/500", "")
		serve(h, "/404", "")
	}
	kept := map[float64]int{}
	rates := map[string]map[float64]int{}
	for _, r := range testutil.JSONLines(t, logs.String()) {
		status := fmt.Sprint(r["http.response.status_code"])
		rate, ok := r["glassbox.sample_rate"].(float64)
		if !ok {
			t.Fatalf("access record without glassbox.sample_rate: %v", r)
		}
		if rates[status] == nil {
			rates[status] = map[float64]int{}
		}
		rates[status][rate]++
		kept[rate]++
	}
	if got := rates["500"][1]; got != 400 || len(rates["500"]) != 1 {
		t.Errorf("5xx: got %v, want all 400 kept at rate 1", rates["500"])
	}
	if got := rates["404"][1]; got != 400 || len(rates["404"]) != 1 {
		t.Errorf("4xx: got %v, want all 400 kept at rate 1", rates["404"])
	}
	// Binomial(400, 1/4): mean 100, standard deviation 8.7.
	if got := rates["200"][0.25]; got < 60 || got > 140 || len(rates["200"]) != 1 {
		t.Errorf("2xx: got %v, want about 100 kept at rate 0.25", rates["200"])
	}
}

// A sampled trace keeps its access record, and so does a slow request.
func TestAccessSamplingKeepsSampledAndSlow(t *testing.T) {
	for name, tc := range map[string]struct {
		sampler sdktrace.Sampler
		slow    time.Duration
	}{
		"sampled traces": {sdktrace.AlwaysSample(), 0},
		"slow requests":  {sdktrace.NeverSample(), time.Nanosecond},
	} {
		t.Run(name, func(t *testing.T) {
			h, logs := samplingServer(t, tc.sampler, 1000, tc.slow)
			for i := 0; i < 50; i++ {
				serve(h, "/200", "")
			}
			recs := testutil.JSONLines(t, logs.String())
			if len(recs) != 50 {
				t.Fatalf("got %d access records, want 50", len(recs))
			}
			for _, r := range recs {
				if r["glassbox.sample_rate"] != 1.0 {
					t.Fatalf("got rate %v, want 1", r["glassbox.sample_rate"])
				}
			}
		})
	}
}

// Every service of a trace makes the same decision for it.
func TestAccessSamplingConsistentAcrossServices(t *testing.T) {
	a, logsA := samplingServer(t, sdktrace.ParentBased(sdktrace.NeverSample()), 3, 0)
	b, logsB := samplingServer(t, sdktrace.ParentBased(sdktrace.NeverSample()), 3, 0)
	for i := 0; i < 60; i++ {
		tp := fmt.Sprintf("00-%032x-00f067aa0ba902b7-00", 0x1000+i*7919)
		serve(a, "/200", tp)
		serve(b, "/200", tp)
	}
	traces := func(buf *syncBuffer) (out []any) {
		for _, r := range testutil.JSONLines(t, buf.String()) {
			out = append(out, r["trace.id"])
		}
		return out
	}
	ta, tb := traces(logsA), traces(logsB)
	if fmt.Sprint(ta) != fmt.Sprint(tb) {
		t.Errorf("service A kept the traces %v, service B %v", ta, tb)
	}
	if len(ta) == 0 || len(ta) == 60 {
		t.Errorf("kept %d of 60: the test does not test sampling", len(ta))
	}
}

// Without the option, nothing changes: every record, no rate.
func TestAccessSamplingOff(t *testing.T) {
	h, logs := samplingServer(t, sdktrace.NeverSample(), 0, 0)
	for i := 0; i < 10; i++ {
		serve(h, "/200", "")
	}
	recs := testutil.JSONLines(t, logs.String())
	if len(recs) != 10 || recs[0]["glassbox.sample_rate"] != nil {
		t.Errorf("got %d records (%v), want 10 without a rate", len(recs), recs[0])
	}
}
