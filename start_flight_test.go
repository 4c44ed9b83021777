package glassbox

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/glassbox-obs/glassbox/internal/sentrytest"
	"github.com/glassbox-obs/glassbox/internal/testutil"
	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/middleware"
)

// failingHandler logs DEBUG and INFO records, then answers 500.
func failingHandler(logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logger.DebugContext(r.Context(), "cache miss", "key", "order:42")
		logger.InfoContext(r.Context(), "charging card")
		logger.DebugContext(r.Context(), "gateway answered", "status", 502)
		w.WriteHeader(http.StatusInternalServerError)
	})
}

func TestFlightRecorderOffByDefault(t *testing.T) {
	tel, buf := startT(t, env())
	h := middleware.HTTP(tel.MiddlewareOptions()...)(failingHandler(tel.Logger()))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/pay", nil))
	if strings.Contains(buf.String(), "cache miss") {
		t.Errorf("DEBUG record written with the flight recorder off:\n%s", buf)
	}
	if st := tel.Stats(); st.Enabled.FlightRecorder || st.FlightRecorder != (log.FlightStats{}) {
		t.Errorf("stats: %+v", st.FlightRecorder)
	}
}

// GLASSBOX_FLIGHT_RECORDER=on: a failed request's DEBUG records are in
// the console, marked, before its access record, and counted.
func TestFlightRecorderFromEnv(t *testing.T) {
	tel, buf := startT(t, env(EnvFlightRecorder, "on"))
	h := middleware.HTTP(tel.MiddlewareOptions()...)(failingHandler(tel.Logger()))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/pay", nil))
	var got []string
	for _, d := range testutil.JSONLines(t, buf.String()) {
		got = append(got, fmt.Sprint(d["message"], "/", d["glassbox.replayed"]))
	}
	if want := "charging card/<nil>, cache miss/true, gateway answered/true, request completed/<nil>"; strings.Join(got, ", ") != want {
		t.Errorf("got %s, want %s", strings.Join(got, ", "), want)
	}
	st := tel.Stats()
	if !st.Enabled.FlightRecorder || st.FlightRecorder.Replayed != 2 || st.FlightRecorder.Failed != 1 {
		t.Errorf("stats: %+v", st.FlightRecorder)
	}
}

func TestFlightRecorderBadEnv(t *testing.T) {
	_, err := Start(context.Background(), env(EnvFlightRecorder, "maybe"), WithLogWriter(nil), WithoutSetDefault())
	if err == nil || !strings.Contains(err.Error(), EnvFlightRecorder) {
		t.Errorf("got %v, want an error naming %s", err, EnvFlightRecorder)
	}
	// The code option wins over the environment.
	tel, _ := startT(t, env(EnvFlightRecorder, "off"), WithFlightRecorder(log.WithFlightLimits(8, 4096)))
	if !tel.Stats().Enabled.FlightRecorder {
		t.Error("WithFlightRecorder did not win over GLASSBOX_FLIGHT_RECORDER=off")
	}
}

// The replayed records are the Sentry event's breadcrumbs, in the order
// they were logged, with the records written at the time.
func TestFlightRecorderSentryBreadcrumbs(t *testing.T) {
	srv := sentrytest.NewServer(t)
	tel, _ := startT(t, env(EnvFlightRecorder, "on", "OTEL_SERVICE_NAME", "checkout", "SENTRY_DSN", srv.DSN()))
	h := middleware.HTTP(tel.MiddlewareOptions()...)(failingHandler(tel.Logger()))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/pay", nil))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tel.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	evs := srv.Events()
	if len(evs) != 1 {
		t.Fatalf("got %d events, want 1", len(evs))
	}
	crumbs, _ := evs[0]["breadcrumbs"].(map[string]any)["values"].([]any)
	var got []string
	for _, c := range crumbs {
		m := c.(map[string]any)
		data, _ := m["data"].(map[string]any)
		got = append(got, fmt.Sprint(m["message"], "/", m["level"], "/", data["glassbox.replayed"]))
	}
	if want := "cache miss/debug/true, charging card/info/<nil>, gateway answered/debug/true"; strings.Join(got, ", ") != want {
		t.Errorf("breadcrumbs: got %s, want %s", strings.Join(got, ", "), want)
	}
}
