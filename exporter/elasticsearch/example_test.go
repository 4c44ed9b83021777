package elasticsearch_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
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
// the glassbox CLI (glassbox setup elasticsearch); installing twice changes
// nothing.
func ExampleCluster_InstallTemplates() {
	srv, _ := estest.Start()
	defer srv.Close()
	cluster, err := elasticsearch.Connect(elasticsearch.WithAddresses(srv.URL()))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cluster.Close(context.Background())

	for i := 0; i < 2; i++ {
		res, err := cluster.InstallTemplates(context.Background(), elasticsearch.InstallOptions{Retention: 30 * 24 * time.Hour})
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, r := range res {
			fmt.Printf("%s %s: %v\n", r.Kind, r.Name, r.Action)
		}
	}
	// Output:
	// ilm_policy glassbox: created
	// component_template glassbox-ecs@mappings: created
	// component_template glassbox@settings: created
	// index_template glassbox-logs: created
	// index_template glassbox-traces: created
	// ilm_policy glassbox: unchanged
	// component_template glassbox-ecs@mappings: unchanged
	// component_template glassbox@settings: unchanged
	// index_template glassbox-logs: unchanged
	// index_template glassbox-traces: unchanged
}

// Checking the connection, as a health check or the glassbox CLI's doctor
// command does: Connect reads ELASTICSEARCH_URL and the credentials from
// the environment like New; options win.
func ExampleCluster_Ping() {
	srv, _ := estest.Start()
	defer srv.Close()
	cluster, err := elasticsearch.Connect(elasticsearch.WithAddresses(srv.URL()))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cluster.Close(context.Background())

	info, err := cluster.Ping(context.Background())
	if err != nil {
		fmt.Println("unreachable:", err)
		return
	}
	fmt.Println("Elasticsearch", info.Version, "supported:", info.Supported())
	// Output:
	// Elasticsearch 8.19.7 supported: true
}

// Write-ahead spooling: every record is in the spool directory before
// Write returns, so a killed process loses nothing it accepted; what is
// delivered is deleted from it.
func ExampleWithSpoolMode() {
	srv, _ := estest.Start()
	defer srv.Close()
	dir, _ := os.MkdirTemp("", "spool")
	defer os.RemoveAll(dir)

	exp, err := elasticsearch.New(
		elasticsearch.WithAddresses(srv.URL()),
		elasticsearch.WithSpoolDir(dir),
		elasticsearch.WithSpoolMode(elasticsearch.SpoolAlways), // or GLASSBOX_SPOOL_MODE=always
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	handler := log.NewHandler(log.WithSink(exp.LogSink()))
	slog.New(handler).Info("order placed", "order.id", "o-1")
	_ = handler.Shutdown(context.Background())
	_ = exp.Shutdown(context.Background())

	s := exp.Stats()
	fmt.Printf("journaled %d, delivered %d, in the spool %d\n", s.Journaled, s.Delivered, s.InSpool)
	// Output:
	// journaled 1, delivered 1, in the spool 0
}
