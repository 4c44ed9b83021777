package otlpmetric_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"

	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	"google.golang.org/protobuf/proto"

	"github.com/glassbox-obs/glassbox"
	"github.com/glassbox-obs/glassbox/exporter/otlp"
	"github.com/glassbox-obs/glassbox/exporter/otlp/otlpmetric"
	"github.com/glassbox-obs/glassbox/middleware"
)

// Metrics over OTLP/HTTP to a collector, here a stand-in that prints the
// names it receives; Shutdown exports what is left.
func Example() {
	var mu sync.Mutex
	names := map[string]bool{}
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req colmetricspb.ExportMetricsServiceRequest
		if proto.Unmarshal(body, &req) == nil {
			mu.Lock()
			for _, rm := range req.GetResourceMetrics() {
				for _, sm := range rm.GetScopeMetrics() {
					for _, m := range sm.GetMetrics() {
						names[r.URL.Path+" "+m.GetName()] = true
					}
				}
			}
			mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()

	tel, err := glassbox.Start(context.Background(), glassbox.WithServiceName("checkout"), glassbox.WithLogWriter(nil),
		glassbox.WithMetricsExporter(otlpmetric.New(otlp.WithEndpointURL(collector.URL))))
	if err != nil {
		fmt.Println(err)
		return
	}
	h := middleware.HTTP()(http.NotFoundHandler())
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	_ = tel.Shutdown(context.Background())

	mu.Lock()
	defer mu.Unlock()
	fmt.Println(names["/v1/metrics http.server.request.duration"], names["/v1/metrics http.server.active_requests"])
	// Output: true true
}
