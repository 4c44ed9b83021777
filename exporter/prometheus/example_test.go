package prometheus_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/glassbox-obs/glassbox"
	"github.com/glassbox-obs/glassbox/exporter/prometheus"
	"github.com/glassbox-obs/glassbox/middleware"
)

// A service that Prometheus scrapes: the middleware's request metrics,
// with the service name as a label, on the exporter's own registry.
func Example() {
	tel, err := glassbox.Start(context.Background(), glassbox.WithServiceName("checkout"),
		glassbox.WithMetricsExporter(prometheus.New()), glassbox.WithLogWriter(nil))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tel.Shutdown(context.Background())

	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {})
	mux.Handle("GET /metrics", tel.MetricsHandler())
	h := middleware.HTTP()(mux) // after Start, the middleware records on its MeterProvider

	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/orders/7", nil))
	scrape := httptest.NewRecorder()
	h.ServeHTTP(scrape, httptest.NewRequest("GET", "/metrics", nil))
	lines := bufio.NewScanner(scrape.Body)
	for lines.Scan() {
		if l := lines.Text(); strings.HasPrefix(l, "http_server_request_duration_seconds_count") {
			fmt.Println(l)
		}
	}
	// Output:
	// http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="200",http_route="/orders/{id}",network_protocol_version="1.1",service_name="checkout",url_scheme="http"} 1
}
