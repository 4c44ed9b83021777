package middleware_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"go.opentelemetry.io/otel/propagation"

	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/trace"
)

func ExampleHTTP() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello/{name}", func(w http.ResponseWriter, r *http.Request) {
		id, _ := trace.CorrelationID(r.Context())
		fmt.Println("handler sees correlation ID", id)
		_, _ = io.WriteString(w, "hello "+r.PathValue("name"))
	})
	h := middleware.HTTP(middleware.WithLogger(slog.New(slog.DiscardHandler)))(mux)

	req := httptest.NewRequest("GET", "/hello/ann", nil)
	req.Header.Set("X-Correlation-ID", "order-1234")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Body.String(), rec.Header().Get("X-Correlation-ID"))
	// Output:
	// handler sees correlation ID order-1234
	// 200 hello ann order-1234
}

func ExampleTransport() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("server got X-Correlation-ID", r.Header.Get("X-Correlation-ID"))
	}))
	defer srv.Close()
	client := &http.Client{Transport: middleware.Transport(nil)}

	ctx := trace.WithCorrelationID(context.Background(), "order-1234")
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	resp, err := client.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	// Output:
	// server got X-Correlation-ID order-1234
}

// Config.Inbound is the trust decision an integration for another
// protocol makes with any carrier of request headers.
func ExampleConfig_Inbound() {
	c := middleware.NewConfig(middleware.WithPublicEndpoint(), middleware.WithTrustedPeers("10.0.0.0/8"))
	headers := propagation.HeaderCarrier(http.Header{
		"X-Correlation-Id": {"order-1234", "evil\nvalue"},
		"Traceparent":      {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
	})
	for _, peer := range []string{"10.1.2.3:5000", "203.0.113.9:5000"} {
		ctx, in := c.Inbound(context.Background(), headers, peer)
		id, _ := trace.CorrelationID(ctx)
		fmt.Printf("%s trusted=%v id=%q link=%v\n", peer, in.Trusted, id, in.Link.IsValid())
	}
	// Output:
	// 10.1.2.3:5000 trusted=true id="order-1234" link=false
	// 203.0.113.9:5000 trusted=false id="" link=true
}
