package otlp_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/glassbox-obs/glassbox/exporter/otlp"
	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/trace"
)

// printExporter stands in for the OTLP log exporter: it prints what would
// be sent.
type printExporter struct{}

func (printExporter) Export(_ context.Context, recs []sdklog.Record) error {
	for _, r := range recs {
		var attrs []string
		r.WalkAttributes(func(kv attribute.KeyValue) bool {
			attrs = append(attrs, string(kv.Key)+"="+kv.Value.Emit())
			return true
		})
		fmt.Printf("%s %q %s\n", r.SeverityText(), r.Body().AsString(), strings.Join(attrs, " "))
	}
	return nil
}
func (printExporter) Shutdown(context.Context) error   { return nil }
func (printExporter) ForceFlush(context.Context) error { return nil }

// A Sink turns every record of the glassbox log handler into an OTel log
// record: the message as body, the correlation ID and the (redacted)
// attributes as attributes. In production the exporter comes from
// NewLogExporter.
func ExampleNewSink() {
	sink := otlp.NewSink(printExporter{})
	logger := slog.New(log.NewHandler(log.WithSink(sink)))

	ctx := trace.WithCorrelationID(context.Background(), "order-7")
	logger.WarnContext(ctx, "stock low", "sku", "A-1", "left", 3, "password", "hunter2")

	_ = sink.Shutdown(context.Background())
	fmt.Printf("%+v\n", sink.Stats())
	// Output:
	// WARN "stock low" correlation.id=order-7 sku=A-1 left=3 password=[REDACTED]
	// {Produced:1 Exported:1 Dropped:{QueueFull:0 ExportFailed:0 Shutdown:0} InFlight:0}
}

// Spans go through NewSpanProcessor, which batches them off the request
// path and counts what it cannot deliver.
func ExampleNewSpanProcessor() {
	ctx := context.Background()
	exp, err := otlp.NewSpanExporter(ctx,
		otlp.WithProtocol(otlp.ProtocolGRPC),
		otlp.WithEndpointURL("http://localhost:4317"))
	if err != nil {
		fmt.Println(err)
		return
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(otlp.NewSpanProcessor(exp)))
	defer tp.Shutdown(ctx)
	_, span := tp.Tracer("example").Start(ctx, "work")
	span.End()
}

func ExampleParseProtocol() {
	for _, v := range []string{"", "grpc", "http/json"} {
		p, err := otlp.ParseProtocol(v)
		fmt.Printf("%q -> %q %v\n", v, p, err)
	}
	// Output:
	// "" -> "http/protobuf" <nil>
	// "grpc" -> "grpc" <nil>
	// "http/json" -> "" unsupported OTLP protocol "http/json" (want grpc or http/protobuf)
}

// TraceSettings checks an environment without building an exporter: here
// a map stands in for the process environment, as in "glassbox doctor".
func ExampleTraceSettings() {
	env := map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TIMEOUT": "2500", "OTEL_BSP_MAX_QUEUE_SIZE": "lots"}
	s, warnings, err := otlp.TraceSettings(otlp.WithGetenv(func(k string) string { return env[k] }))
	fmt.Println(s.Protocol, s.Timeout, s.MaxQueueSize, err)
	fmt.Println(warnings)

	env["OTEL_EXPORTER_OTLP_TIMEOUT"] = "2s"
	_, _, err = otlp.TraceSettings(otlp.WithGetenv(func(k string) string { return env[k] }))
	fmt.Println(err)
	// Output:
	// grpc 2.5s 2048 <nil>
	// [otlp: OTEL_BSP_MAX_QUEUE_SIZE: "lots" is not a positive integer, ignored]
	// otlp: OTEL_EXPORTER_OTLP_TIMEOUT: "2s" is not a positive number of milliseconds
}
