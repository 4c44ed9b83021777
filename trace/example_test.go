package trace_test

import (
	"context"
	"fmt"
	"net/http"

	"go.opentelemetry.io/otel/propagation"

	"github.com/glassbox-obs/glassbox/trace"
)

func ExampleWithCorrelationID() {
	ctx := trace.WithCorrelationID(context.Background(), "order-7781")
	id, ok := trace.CorrelationID(ctx)
	fmt.Println(id, ok)

	// Invalid values are never stored.
	ctx = trace.WithCorrelationID(context.Background(), "evil\r\nSet-Cookie: x")
	_, ok = trace.CorrelationID(ctx)
	fmt.Println(ok)
	// Output:
	// order-7781 true
	// false
}

func ExampleExtractCorrelationID() {
	h := http.Header{}
	h.Set("X-Correlation-ID", "not valid!")
	h.Set("X-Request-ID", "req-42")
	ex := trace.ExtractCorrelationID(propagation.HeaderCarrier(h), trace.DefaultHeaders())
	fmt.Printf("id=%s rejected=%d\n", ex.ID, ex.Rejected)
	// Output: id=req-42 rejected=1
}

func ExamplePropagator() {
	ctx := trace.WithCorrelationID(context.Background(), "flow-9")
	h := http.Header{}
	trace.Propagator().Inject(ctx, propagation.HeaderCarrier(h))
	fmt.Println(h.Get("X-Correlation-ID"))
	// Output: flow-9
}
