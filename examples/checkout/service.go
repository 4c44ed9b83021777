package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox"
	"github.com/glassbox-obs/glassbox/middleware"
)

// service is one of the three programs of the shop. Each has its own
// glassbox.Start, as it would in a process of its own: its service.name
// is on every document it writes, and its files are its own.
type service struct {
	name string
	tel  *glassbox.Telemetry
	log  *slog.Logger
	// mw connects the middleware to this service's Telemetry. Start does
	// not install globals here (WithoutSetDefault: three services share
	// the process), so every middleware gets it explicitly.
	mw []middleware.Option
}

// startService starts the telemetry of one service: documents to dir
// through exporter/file, nothing on the console (the terminal shows the
// traffic summary instead), and whatever the environment adds
// (ELASTICSEARCH_URL, OTEL_EXPORTER_OTLP_ENDPOINT, SENTRY_DSN).
func startService(ctx context.Context, name, dir string) (*service, error) {
	tel, err := glassbox.Start(ctx,
		glassbox.WithServiceName(name),
		glassbox.WithoutSetDefault(),
		glassbox.WithFileDir(dir),
		glassbox.WithLogWriter(nil),
	)
	if err != nil {
		return nil, err
	}
	return &service{name: name, tel: tel, log: tel.Logger(), mw: tel.MiddlewareOptions()}, nil
}

// tracer returns the service's tracer for spans of its own code.
func (s *service) tracer() oteltrace.Tracer {
	return s.tel.TracerProvider().Tracer("examples/checkout/" + s.name)
}

// serveHTTP serves h through the glassbox middleware on a free loopback
// port and returns the server and its base URL.
func (s *service) serveHTTP(h http.Handler) (*http.Server, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	srv := &http.Server{
		Handler:           middleware.HTTP(s.mw...)(h),
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("server stopped", "err", err)
		}
	}()
	return srv, "http://" + ln.Addr().String(), nil
}

// work stands for the time a piece of real work would take.
func work(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
