package glassbox

import (
	"context"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/exporter/otlp"
	"github.com/glassbox-obs/glassbox/internal/estest"
	"github.com/glassbox-obs/glassbox/internal/otlptest"
	"github.com/glassbox-obs/glassbox/log"
)

// A backend that never answers must not cost Elasticsearch its spans and
// logs at Shutdown: each gets the whole deadline, whatever the order they
// were registered in. Here a user's span processor and sink that hang
// come first, and so does an OTLP collector that never answers.
func TestShutdownHungBackendDoesNotStarveElasticsearch(t *testing.T) {
	es := estest.New(t)
	col := otlpServer(t, otlp.ProtocolHTTPProtobuf)
	col.FailAll(otlptest.Traces, otlptest.Fault{Hang: true})
	col.FailAll(otlptest.Logs, otlptest.Fault{Hang: true})
	tel, err := Start(context.Background(), env(), WithLogWriter(nil), WithoutSetDefault(), WithErrorHandler(discardErrors{}),
		WithSpanProcessor(hangingProcessor{}), WithSink(hangingSink{}),
		WithElasticsearch(elasticsearch.WithAddresses(es.URL())),
		WithOTLP(otlp.WithEndpointURL(col.Endpoint()), otlp.WithRetry(otlp.RetryConfig{})))
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	logSpans(tel, n)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = tel.Shutdown(ctx) // the collector never answers: a deadline error is expected

	st := tel.Stats()
	if st.Enabled != (Exporters{Elasticsearch: true, OTLPSpans: true, OTLPLogs: true}) {
		t.Fatalf("Stats.Enabled: got %+v, want Elasticsearch and OTLP, no Sentry", st.Enabled)
	}
	if got := st.Elasticsearch.Delivered; got != 2*n {
		t.Errorf("Elasticsearch delivered %d documents, want %d (%d logs + %d spans): %+v", got, 2*n, n, n, st.Elasticsearch)
	}
	if logs, spans := len(es.Docs("logs-*")), len(es.Docs("traces-*")); logs != n || spans != n {
		t.Errorf("Elasticsearch stored %d logs and %d spans, want %d of each", logs, spans, n)
	}
	// What the collector never took is counted as dropped at shutdown:
	// nothing stays in flight once Shutdown has returned.
	for name, o := range map[string]otlp.Stats{"spans": st.OTLPSpans, "logs": st.OTLPLogs} {
		if o.Produced != n || o.Exported != 0 || o.InFlight != 0 || o.Dropped.Total() != n {
			t.Errorf("OTLP %s: got %+v, want %d produced, none exported or in flight, all dropped by reason", name, o, n)
		}
	}
}

func TestStatsEmptyWithoutExporters(t *testing.T) {
	tel, _ := startT(t, env())
	if st := tel.Stats(); st.Enabled != (Exporters{}) || st.Elasticsearch.Produced != 0 || st.OTLPSpans.Produced != 0 || st.Sentry.Queued != 0 {
		t.Errorf("Stats with nothing configured: got %+v, want nothing enabled and zero counters", st)
	}
}

// hangingProcessor and hangingSink stand for backends that never answer:
// their Shutdown returns only when its deadline passes.
type hangingProcessor struct{ sdktrace.SpanProcessor }

func (hangingProcessor) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (hangingProcessor) OnEnd(sdktrace.ReadOnlySpan)                     {}
func (hangingProcessor) ForceFlush(ctx context.Context) error            { <-ctx.Done(); return ctx.Err() }
func (hangingProcessor) Shutdown(ctx context.Context) error              { <-ctx.Done(); return ctx.Err() }

type hangingSink struct{}

func (hangingSink) Write(context.Context, *log.Entry) error { return nil }
func (hangingSink) Shutdown(ctx context.Context) error      { <-ctx.Done(); return ctx.Err() }

// TestShutdownHungElasticsearchDoesNotStarveTheFiles: with Elasticsearch
// holding every request and a sink that never finishes, the local files
// still get every log record and span, none dropped, and report no error:
// the file exporter had nothing left to wait for when the others used up
// the deadline. (TestComponentsShutDownSideBySideThenMetrics and
// log.TestSinksShutDownSideBySide check that each component gets the
// deadline ahead of it.)
func TestShutdownHungElasticsearchDoesNotStarveTheFiles(t *testing.T) {
	es := estest.New(t)
	es.Inject(estest.Fault{Delay: time.Hour, Count: 1 << 30})
	dir := t.TempDir()
	tel, err := Start(context.Background(), env(), WithLogWriter(nil), WithoutSetDefault(), WithErrorHandler(discardErrors{}),
		WithSink(hangingSink{}), WithFileDir(dir),
		WithElasticsearch(elasticsearch.WithAddresses(es.URL())))
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	logSpans(tel, n)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err = tel.Shutdown(ctx) // Elasticsearch never answers: a deadline error is expected
	if err == nil {
		t.Fatal("Shutdown returned no error, want Elasticsearch's deadline")
	}
	if strings.Contains(err.Error(), "file") {
		t.Errorf("Shutdown: got %v, want no error from the files, which had nothing to wait for", err)
	}

	f := tel.Stats().File
	if f.Produced != 2*n || f.Written != 2*n || f.Dropped.Total() != 0 {
		t.Errorf("files: got %+v, want %d documents written (%d logs + %d spans), none dropped", f, 2*n, n, n)
	}
	if es := tel.Stats().Elasticsearch; es.InFlight != 0 || es.Delivered != 0 || es.Dropped.Total() != 2*n {
		t.Errorf("Elasticsearch: got %+v, want every document counted as dropped at shutdown, none in flight", es)
	}
}

// logSpans ends n spans, each with one record logged inside it.
func logSpans(tel *Telemetry, n int) {
	tr := tel.TracerProvider().Tracer("t")
	for i := 0; i < n; i++ {
		ctx, span := tr.Start(context.Background(), "op")
		tel.Logger().InfoContext(ctx, "record", "i", i)
		span.End()
	}
}
