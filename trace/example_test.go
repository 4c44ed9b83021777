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

// Several tracestate header lines are one list; a key repeated keeps its
// first member, and keys of the current grammar ("vendor@") are kept.
func ExampleTraceContext() {
	in := http.Header{}
	in.Add("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	in.Add("tracestate", "congo=t61rcWkgMzE, rojo=1")
	in.Add("tracestate", "rojo=2,vendor@=x")
	var p trace.TraceContext
	ctx := p.Extract(context.Background(), propagation.HeaderCarrier(in))

	out := http.Header{}
	p.Inject(ctx, propagation.HeaderCarrier(out))
	fmt.Println(out.Get("traceparent"))
	fmt.Println(out.Get("tracestate"))
	// Output:
	// 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
	// congo=t61rcWkgMzE,rojo=1,vendor@=x
}
