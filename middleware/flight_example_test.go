package middleware_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/middleware"
)

func ExampleWithFlightRecorder() {
	var out strings.Builder
	rec := log.NewFlightRecorder()
	logger := slog.New(log.NewHandler(log.WithWriter(&out), log.WithFlightRecorder(rec)))
	h := middleware.HTTP(middleware.WithLogger(logger), middleware.WithFlightRecorder(rec))(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			logger.DebugContext(r.Context(), "query", "sql", "SELECT ...")
			if r.URL.Path == "/fail" {
				w.WriteHeader(http.StatusInternalServerError)
			}
		}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/ok", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/fail", nil))

	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		fmt.Println(line[strings.Index(line, `"log.level"`):strings.Index(line, `,"ecs.version"`)])
	}
	// Output:
	// "log.level":"info","message":"request completed"
	// "log.level":"debug","message":"query"
	// "log.level":"error","message":"request completed"
}
