package file_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/glassbox-obs/glassbox/exporter/file"
	"github.com/glassbox-obs/glassbox/log"
)

func Example() {
	dir, _ := os.MkdirTemp("", "glassbox-data")
	defer os.RemoveAll(dir)

	// In a service, glassbox.Start builds the Exporter from GLASSBOX_FILE_DIR.
	svc := log.Service{Name: "checkout"}
	exp, err := file.New(file.WithDir(dir), file.WithService(svc))
	if err != nil {
		panic(err)
	}
	handler := log.NewHandler(log.WithService(svc), log.WithSink(exp.LogSink()))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(exp.SpanProcessor()))

	ctx, span := tp.Tracer("checkout").Start(context.Background(), "charge")
	slog.New(handler).InfoContext(ctx, "card charged")
	span.End()

	// Shut down the producers first, the Exporter last.
	_ = tp.Shutdown(context.Background())
	_ = handler.Shutdown(context.Background())
	_ = exp.Shutdown(context.Background())

	names, _ := filepath.Glob(filepath.Join(dir, "*.ndjson"))
	for _, n := range names {
		fmt.Println(filepath.Base(n))
	}
	st := exp.Stats()
	fmt.Println(st.Produced, st.Written, st.Dropped.Total())
	// Output:
	// logs-checkout-default.ndjson
	// traces-checkout-default.ndjson
	// 2 2 0
}
