// Command quickstart is the smallest useful glassbox program: one call to
// Start, then the standard log/slog API. Every record is one ECS JSON line
// that carries the correlation ID of the work it belongs to.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/glassbox-obs/glassbox"
	"github.com/glassbox-obs/glassbox/trace"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx := context.Background()
	tel, err := glassbox.Start(ctx, glassbox.WithServiceName("quickstart"))
	if err != nil {
		return err
	}
	defer tel.Shutdown(context.Background())

	// A unit of work: give it a correlation ID and a span.
	ctx, span := tel.TracerProvider().Tracer("quickstart").Start(ctx, "checkout")
	ctx, id := trace.EnsureCorrelationID(ctx)

	slog.InfoContext(ctx, "order received", "order_id", 42, "items", 3)
	slog.WarnContext(ctx, "payment retried", "attempt", 2, "card_number", "4111111111111111")
	slog.ErrorContext(ctx, "payment failed", "err", errors.New("card declined"))
	span.End()

	fmt.Fprintf(os.Stderr, "\nevery line above carries correlation.id=%s\n", id)
	return nil
}
