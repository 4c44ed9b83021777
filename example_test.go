package glassbox_test

import (
	"context"
	"fmt"
	"os"

	"github.com/glassbox-obs/glassbox"
	"github.com/glassbox-obs/glassbox/trace"
)

func ExampleStart() {
	tel, err := glassbox.Start(context.Background(),
		glassbox.WithServiceName("checkout"),
		glassbox.WithLogWriter(os.Stderr), // stdout by default
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tel.Shutdown(context.Background())

	ctx, span := tel.TracerProvider().Tracer("checkout").Start(context.Background(), "charge")
	defer span.End()
	ctx, id := trace.EnsureCorrelationID(ctx) // the trace ID: one value finds logs and spans
	tel.Logger().InfoContext(ctx, "payment authorised", "amount", 129.95)
	fmt.Println(id == span.SpanContext().TraceID().String())
	// Output: true
}
