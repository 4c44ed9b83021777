package elasticsearch_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/log"
)

// BenchmarkLogSinkWrite measures the request-path cost of one Write from
// many goroutines (what a logging call pays), against an endpoint that
// acknowledges every bulk request.
func BenchmarkLogSinkWrite(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		// Claims success without items: enough for the fast path.
		_, _ = io.WriteString(w, `{"errors":false,"took":1,"items":[]}`)
	}))
	defer srv.Close()
	exp, err := elasticsearch.New(elasticsearch.WithAddresses(srv.URL), elasticsearch.WithService(log.Service{Name: "bench"}), elasticsearch.WithErrorHandler(&errorSink{}))
	if err != nil {
		b.Fatal(err)
	}
	defer exp.Shutdown(context.Background())
	sink := exp.LogSink()
	doc := []byte(`{"@timestamp":"2026-01-02T03:04:05.123456789Z","log.level":"INFO","message":"hello","correlation.id":"abc","user.id":42}` + "\n")
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		e := &log.Entry{Time: time.Now(), Doc: doc}
		ctx := context.Background()
		for pb.Next() {
			_ = sink.Write(ctx, e)
		}
	})
	b.StopTimer()
	s := exp.Stats()
	b.ReportMetric(float64(s.Dropped.QueueFull)/float64(b.N), "dropped/op")
}
