package middleware_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/trace"
)

func ExampleHTTP() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello/{name}", func(w http.ResponseWriter, r *http.Request) {
		id, _ := trace.CorrelationID(r.Context())
		fmt.Println("handler sees correlation ID", id)
		_, _ = io.WriteString(w, "hello "+r.PathValue("name"))
	})
	h := middleware.HTTP(middleware.WithLogger(slog.New(slog.DiscardHandler)))(mux)

	req := httptest.NewRequest("GET", "/hello/ann", nil)
	req.Header.Set("X-Correlation-ID", "order-1234")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Body.String(), rec.Header().Get("X-Correlation-ID"))
	// Output:
	// handler sees correlation ID order-1234
	// 200 hello ann order-1234
}

func ExampleTransport() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("server got X-Correlation-ID", r.Header.Get("X-Correlation-ID"))
	}))
	defer srv.Close()
	client := &http.Client{Transport: middleware.Transport(nil)}

	ctx := trace.WithCorrelationID(context.Background(), "order-1234")
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	resp, err := client.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	// Output:
	// server got X-Correlation-ID order-1234
}

// SetDefault gives every middleware built afterwards the options it has
// not set itself; glassbox.Start sets its Telemetry's options this way.
func ExampleSetDefault() {
	prev := middleware.Default()
	middleware.SetDefault(
		middleware.WithLogger(slog.New(slog.DiscardHandler)),
		middleware.WithCorrelationHeaders("X-Trace-Token"),
	)
	defer middleware.SetDefault(prev...)

	h := middleware.HTTP()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-Trace-Token", "order-1234")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Header().Get("X-Trace-Token"))
	// Output: order-1234
}
