package breakglass_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/middleware/breakglass"
)

func Example() {
	keys, _ := breakglass.ParseKeys("ops:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	v, _ := breakglass.New("checkout", keys, time.Hour)

	// The handler's flight recorder carries a debugged request's level.
	var out strings.Builder
	rec := log.NewFlightRecorder()
	logger := slog.New(log.NewHandler(log.WithWriter(&out), log.WithFlightRecorder(rec)))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		logger.DebugContext(r.Context(), "cache lookup", "key", r.PathValue("id"))
	})
	h := middleware.HTTP(middleware.WithLogger(logger), middleware.WithFlightRecorder(rec), middleware.WithBreakGlass(v))(mux)

	// What `glassbox debug-token --key-id ops --ttl 10m --route 'GET /orders/{id}'` prints.
	tok, _ := breakglass.Mint(keys[0], 10*time.Minute, "GET /orders/{id}", "checkout")
	req := httptest.NewRequest("GET", "/orders/42", nil)
	req.Header.Set(breakglass.Header, tok)
	h.ServeHTTP(httptest.NewRecorder(), req)

	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		fmt.Println(line[strings.Index(line, `"log.level"`):strings.Index(line, `,"ecs.version"`)])
	}
	fmt.Printf("%+v\n", v.Stats())
	// Output:
	// "log.level":"warn","message":"break-glass debugging on"
	// "log.level":"debug","message":"cache lookup"
	// "log.level":"info","message":"request completed"
	// {Accepted:1 Malformed:0 Forged:0 Expired:0 TTLTooLong:0 WrongScope:0 GrantsAccepted:0 GrantsRefused:0}
}
