// README: main.go

// Command quickstart is the README's first program: an HTTP service whose
// every log line is ECS JSON carrying the request's correlation ID, and
// which, stopped by SIGINT or SIGTERM, finishes its requests and flushes
// its telemetry before it exits.
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/glassbox-obs/glassbox"
	"github.com/glassbox-obs/glassbox/middleware"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run() error {
	// Cancelled by Ctrl-C, or by the SIGTERM a deploy sends.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	tel, err := glassbox.Start(ctx, glassbox.WithServiceName("checkout"))
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		slog.InfoContext(r.Context(), "loading order", "order_id", r.PathValue("id"))
		fmt.Fprintln(w, "order", r.PathValue("id"))
	})
	srv := &http.Server{
		// After Start, the middleware uses the Telemetry's tracer,
		// propagator, logger, redaction and Sentry reporting.
		Handler:           middleware.HTTP()(mux),
		ReadHeaderTimeout: 10 * time.Second,
	}
	ln, err := net.Listen("tcp", cmp.Or(os.Getenv("ADDR"), ":8080"))
	if err == nil {
		slog.Info("listening", "addr", ln.Addr().String())
		served := make(chan error, 1)
		go func() { served <- srv.Serve(ln) }()
		select {
		case err = <-served: // the server failed
		case <-ctx.Done(): // a signal: shut down
		}
	}

	// Stop taking requests, let those in flight finish, then flush every
	// exporter, all within 10 seconds.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return errors.Join(err, srv.Shutdown(shutdownCtx), tel.Shutdown(shutdownCtx))
}
