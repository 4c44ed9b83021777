package elasticsearch_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/internal/estest"
	"github.com/glassbox-obs/glassbox/log"
)

// Logs and spans of one service into Elasticsearch (here the test server;
// in production the URL of a cluster and an API key).
func Example() {
	srv, _ := estest.Start()
	defer srv.Close()

	svc := log.Service{Name: "checkout", Environment: "production"}
	exp, err := elasticsearch.New(
		elasticsearch.WithAddresses(srv.URL()),
		elasticsearch.WithService(svc),
		elasticsearch.WithTemplates(), // ILM policy and index templates, once
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	handler := log.NewHandler(log.WithSink(exp.LogSink()), log.WithService(svc))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp.SpanExporter()))

	ctx, span := tp.Tracer("checkout").Start(context.Background(), "place order")
	slog.New(handler).InfoContext(ctx, "order placed", "order.id", "o-1")
	span.End()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = tp.Shutdown(ctx)      // flushes spans into the exporter
	_ = handler.Shutdown(ctx) // flushes log records
	_ = exp.Shutdown(ctx)     // last: delivers what is queued

	s := exp.Stats()
	fmt.Println(exp.LogsDataStream(), exp.TracesDataStream())
	fmt.Printf("produced %d, delivered %d, dropped %d\n", s.Produced, s.Delivered, s.Dropped.Total())
	// Output:
	// logs-checkout-default traces-checkout-default
	// produced 2, delivered 2, dropped 0
}

// The templates can be installed on their own, e.g. by a deployment job or
// the glassbox CLI; installing twice changes nothing.
func ExampleInstallTemplates() {
	srv, _ := estest.Start()
	defer srv.Close()
	exp, _ := elasticsearch.New(elasticsearch.WithAddresses(srv.URL()))
	defer exp.Shutdown(context.Background())

	err := elasticsearch.InstallTemplates(context.Background(), exp.Client(), 30*24*time.Hour)
	fmt.Println("installed:", err == nil)
	for _, t := range elasticsearch.Templates(30 * 24 * time.Hour) {
		fmt.Println(t.Path)
	}
	// Output:
	// installed: true
	// _ilm/policy/glassbox
	// _component_template/glassbox-ecs@mappings
	// _component_template/glassbox@settings
	// _index_template/glassbox-logs
	// _index_template/glassbox-traces
}
