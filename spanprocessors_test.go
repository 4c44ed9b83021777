package glassbox

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/glassbox-obs/glassbox/trace"
)

func TestCorrelationSpanProcessor(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(CorrelationSpanProcessor{}), sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())
	tr := tp.Tracer("t")

	ctx := trace.WithCorrelationID(context.Background(), "order-7781")
	ctx, parent := tr.Start(ctx, "request")
	_, child := tr.Start(ctx, "db.query") // as an instrumentation library would
	child.End()
	parent.End()
	_, other := tr.Start(context.Background(), "background job")
	other.End()

	got := map[string]string{}
	for _, s := range exp.GetSpans() {
		got[s.Name] = "<none>"
		for _, a := range s.Attributes {
			if a.Key == trace.CorrelationAttribute {
				got[s.Name] = a.Value.AsString()
			}
		}
	}
	want := map[string]string{"request": "order-7781", "db.query": "order-7781", "background job": "<none>"}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("span %q: correlation.id = %s, want %s", name, got[name], w)
		}
	}
}

// Package trace is imported by every program that logs through glassbox:
// it depends on the OpenTelemetry API only, never on the SDK.
func TestTraceDependsOnTheAPIOnly(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "./trace").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "go.opentelemetry.io/otel/sdk") {
			t.Errorf("package trace depends on %s", pkg)
		}
	}
}
