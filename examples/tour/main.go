// Command tour is a self-driving tour of glassbox: one call to Start, the
// standard log/slog API, and an HTTP service instrumented by the glassbox
// middleware. Every record is one ECS JSON line that carries the
// correlation ID of the request it belongs to.
//
//	go run ./examples/tour
//
// It needs no configuration and no backend: it starts a server on a free
// loopback port, sends it a few requests (one of which calls the service
// again through the instrumented client, one of which panics), prints what
// happened on stderr and exits. examples/quickstart is the program to copy.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/glassbox-obs/glassbox"
	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/trace"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "tour:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx := context.Background()
	tel, err := glassbox.Start(ctx, glassbox.WithServiceName("tour"))
	if err != nil {
		return err
	}
	defer tel.Shutdown(context.Background())

	// 1. Plain logging: a unit of work with a correlation ID and a span.
	wctx, span := tel.TracerProvider().Tracer("tour").Start(ctx, "checkout")
	wctx, id := trace.EnsureCorrelationID(wctx)
	slog.InfoContext(wctx, "order received", "order_id", 42, "items", 3)
	slog.WarnContext(wctx, "payment retried", "attempt", 2, "card_number", "4111111111111111")
	slog.ErrorContext(wctx, "payment failed", "err", errors.New("card declined"))
	span.End()
	fmt.Fprintf(os.Stderr, "\n-> every line above carries correlation.id=%s\n\n", id)

	// 2. An instrumented HTTP service.
	return serveAndCall(tel)
}

func serveAndCall(tel *glassbox.Telemetry) error {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	base := "http://" + lis.Addr().String()
	// Outgoing calls go through the instrumented Transport: it sends
	// traceparent and X-Correlation-ID taken from the request context.
	client := &http.Client{Transport: middleware.Transport(nil, tel.MiddlewareOptions()...), Timeout: 5 * time.Second}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		slog.InfoContext(r.Context(), "looking up order", "order_id", r.PathValue("id"))
		req, _ := http.NewRequestWithContext(r.Context(), "GET", base+"/inventory/"+r.PathValue("id"), nil)
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, "inventory unavailable", http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		stock, _ := io.ReadAll(resp.Body)
		fmt.Fprintf(w, "order %s: %s in stock\n", r.PathValue("id"), stock)
	})
	mux.HandleFunc("GET /inventory/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, _ := trace.CorrelationID(r.Context())
		slog.InfoContext(r.Context(), "inventory checked", "item", r.PathValue("id"), "seen_correlation_id", id)
		io.WriteString(w, "7")
	})
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, r *http.Request) {
		var m map[string]int
		m["boom"]++ // a bug: panics, the middleware recovers and answers 500
	})
	srv := &http.Server{
		Handler:           middleware.HTTP(tel.MiddlewareOptions()...)(mux),
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          slog.NewLogLogger(tel.Logger().Handler(), slog.LevelWarn),
	}
	go srv.Serve(lis)
	defer srv.Shutdown(context.Background())

	calls := []struct {
		what, path, correlationID string
	}{
		{"an order, with the caller's correlation ID (it reaches the inventory call too)", "/orders/42", "demo-order-42"},
		{"an order, without one (the trace ID becomes the correlation ID)", "/orders/7", ""},
		{"a handler that panics", "/fail", ""},
	}
	for _, c := range calls {
		req, _ := http.NewRequest("GET", base+c.path, nil)
		if c.correlationID != "" {
			req.Header.Set("X-Correlation-ID", c.correlationID)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Fprintf(os.Stderr, "\n-> %s\n   GET %s: %d %q, response X-Correlation-ID: %s\n\n",
			c.what, c.path, resp.StatusCode, body, resp.Header.Get("X-Correlation-ID"))
	}
	fmt.Fprintln(os.Stderr, "-> search the logs for one correlation.id to see the whole story of a request.")
	return nil
}
