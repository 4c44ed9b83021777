package middleware_test

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/glassbox-obs/glassbox/internal/metrictest"
	"github.com/glassbox-obs/glassbox/middleware"
)

const (
	serverDuration = "http.server.request.duration"
	serverActive   = "http.server.active_requests"
	clientDuration = "http.client.request.duration"
)

// advisedBuckets are the boundaries the semantic conventions advise for
// the duration histograms, written out so that a change in the code fails.
var advisedBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

func metricsMux(entered chan<- struct{}, release <-chan struct{}) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("POST /fail", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	mux.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /internal", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
	})
	return mux
}

func TestHTTPServerMetrics(t *testing.T) {
	f := newFixture(t)
	mr := metrictest.New(t)
	entered, release := make(chan struct{}), make(chan struct{})
	notInternal := func(req *middleware.Request) bool { return req.HTTP.URL.Path != "/internal" }
	h := middleware.HTTP(f.opts(middleware.WithMeterProvider(mr.Provider), middleware.WithFilter(notInternal))...)(metricsMux(entered, release))
	serve := func(method, target string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	}
	serve("GET", "/users/1")
	serve("GET", "/users/2?secret=x")
	serve("POST", "/fail")
	serve("GET", "/panic")
	serve("GET", "/no/such/path")
	serve("GET", "/healthz")
	serve("GET", "/internal")

	done := make(chan struct{})
	go func() { defer close(done); serve("GET", "/slow") }()
	<-entered
	active := metrictest.Find(t, mr.Collect(t), serverActive, map[string]string{"http.request.method": "GET", "url.scheme": "http"})
	if active.Value != 1 || active.Unit != "{request}" || active.Kind != "sum" || active.Monotonic {
		t.Errorf("during /slow: got %s %g %s (monotonic %v), want an up-down counter at 1 {request}", active.Kind, active.Value, active.Unit, active.Monotonic)
	}
	close(release)
	<-done

	points := mr.Collect(t)
	if p := metrictest.Find(t, points, serverActive, map[string]string{"http.request.method": "GET"}); p.Value != 0 {
		t.Errorf("after every request: got %g active, want 0", p.Value)
	}
	base := map[string]string{"url.scheme": "http", "network.protocol.version": "1.1"}
	cases := []struct {
		name  string
		attrs map[string]string
		count uint64
	}{
		{"route, both ids in one series", map[string]string{"http.request.method": "GET", "http.route": "/users/{id}", "http.response.status_code": "200", "error.type": ""}, 2},
		{"5xx", map[string]string{"http.request.method": "POST", "http.route": "/fail", "http.response.status_code": "503", "error.type": "503"}, 1},
		{"panic", map[string]string{"http.route": "/panic", "http.response.status_code": "500", "error.type": "string"}, 1},
		{"no route matched", map[string]string{"http.route": "", "http.response.status_code": "404", "error.type": ""}, 1},
		{"slow", map[string]string{"http.route": "/slow", "http.response.status_code": "200"}, 1},
	}
	var total uint64
	for _, c := range cases {
		for k, v := range base {
			c.attrs[k] = v
		}
		p := metrictest.Find(t, points, serverDuration, c.attrs)
		if p.Count != c.count {
			t.Errorf("%s: got count %d, want %d", c.name, p.Count, c.count)
		}
		if p.Unit != "s" || !slices.Equal(p.Bounds, advisedBuckets) {
			t.Errorf("%s: got unit %q bounds %v, want s and %v", c.name, p.Unit, p.Bounds, advisedBuckets)
		}
		total += p.Count
	}
	var all uint64
	for _, p := range metrictest.Named(points, serverDuration) {
		all += p.Count
		if r := p.Attrs["http.route"]; r == "/healthz" || r == "/internal" {
			t.Errorf("a skipped request was measured: %v", p.Attrs)
		}
	}
	if all != total {
		t.Errorf("got %d measured requests, want %d (health check and filtered ones left out):\n%s", all, total, metrictest.Dump(points))
	}
}

func TestHTTPServerMetricsExemplarIsTheRequestsSpan(t *testing.T) {
	f := newFixture(t)
	mr := metrictest.New(t)
	h := middleware.HTTP(f.opts(middleware.WithMeterProvider(mr.Provider))...)(metricsMux(nil, nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/users/1", nil))
	span := f.span(t)
	p := metrictest.Find(t, mr.Collect(t), serverDuration, map[string]string{"http.route": "/users/{id}"})
	if len(p.Exemplars) != 1 {
		t.Fatalf("got %d exemplars, want 1", len(p.Exemplars))
	}
	e := p.Exemplars[0]
	if e.TraceID != span.SpanContext.TraceID().String() || e.SpanID != span.SpanContext.SpanID().String() {
		t.Errorf("got exemplar trace %s span %s, want the server span's %s %s", e.TraceID, e.SpanID, span.SpanContext.TraceID(), span.SpanContext.SpanID())
	}
}

// TestHTTPMetricsCardinality sends what a scanner sends, 10,000 requests
// with random paths and methods: the series stay a handful, bounded by
// the program's routes, not by the requests.
func TestHTTPMetricsCardinality(t *testing.T) {
	mr := metrictest.New(t)
	h := middleware.HTTP(middleware.WithMeterProvider(mr.Provider), middleware.WithLogger(slog.New(slog.DiscardHandler)))(metricsMux(nil, nil))
	rng := rand.New(rand.NewPCG(1, 2))
	methods := []string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE"}
	for i := range 10000 {
		method := methods[rng.IntN(len(methods))]
		if i%3 == 0 {
			method = randomToken(rng) // a method no one knows
		}
		path := "/" + randomToken(rng) + "/" + strconv.Itoa(rng.IntN(1e9))
		if i%5 == 0 {
			path = "/users/" + randomToken(rng)
		}
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, path, nil))
	}
	points := metrictest.Named(mr.Collect(t), serverDuration)
	var count uint64
	for _, p := range points {
		count += p.Count
		if r, ok := p.Attrs["http.route"]; ok && r != "/users/{id}" {
			t.Errorf("route %q recorded: only patterns may be", r)
		}
		if m := p.Attrs["http.request.method"]; m != "_OTHER" && !slices.Contains(methods, m) {
			t.Errorf("method %q recorded: unknown methods must be _OTHER", m)
		}
	}
	if count != 10000 {
		t.Errorf("got %d requests measured, want 10000", count)
	}
	// At most: (no route, /users/{id}) x (8 methods + _OTHER) x (200, 404, 405).
	if len(points) > 2*9*3 {
		t.Errorf("got %d series from 10,000 random requests, want at most 54:\n%s", len(points), metrictest.Dump(points))
	}
	t.Logf("%d series", len(points))
}

func randomToken(rng *rand.Rand) string {
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 3+rng.IntN(8))
	for i := range b {
		b[i] = letters[rng.IntN(len(letters))]
	}
	return string(b)
}

func TestTransportMetrics(t *testing.T) {
	f := newFixture(t)
	mr := metrictest.New(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	client := &http.Client{Transport: middleware.Transport(nil, f.opts(middleware.WithMeterProvider(mr.Provider))...)}
	get := func(url string) error {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	for _, p := range []string{"/a", "/b", "/missing"} {
		if err := get(srv.URL + p); err != nil {
			t.Fatal(err)
		}
	}
	// A port nothing listens on: the connection is refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().(*net.TCPAddr)
	ln.Close()
	if err := get(fmt.Sprintf("http://127.0.0.1:%d/x", closed.Port)); err == nil {
		t.Fatal("a closed port answered")
	}

	host, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	points := mr.Collect(t)
	ok := metrictest.Find(t, points, clientDuration, map[string]string{
		"http.request.method": "GET", "server.address": host, "server.port": port, "url.scheme": "http",
		"http.response.status_code": "200", "network.protocol.version": "1.1", "error.type": "",
	})
	if ok.Count != 2 || ok.Unit != "s" || !slices.Equal(ok.Bounds, advisedBuckets) {
		t.Errorf("got count %d unit %q bounds %v, want 2, s, the advised buckets", ok.Count, ok.Unit, ok.Bounds)
	}
	metrictest.Find(t, points, clientDuration, map[string]string{"http.response.status_code": "404", "error.type": "404"})
	refused := metrictest.Find(t, points, clientDuration, map[string]string{"server.port": strconv.Itoa(closed.Port), "http.response.status_code": ""})
	if refused.Attrs["error.type"] == "" {
		t.Errorf("refused connection: got no error.type in %v", refused.Attrs)
	}
	if len(ok.Exemplars) == 0 || ok.Exemplars[0].TraceID == "" {
		t.Errorf("got exemplars %v, want the client span's trace ID", ok.Exemplars)
	}
}

// TestMetricsAllocateNothing: recording the request metrics adds no
// allocation to a request, its attribute set being cached per outcome.
func TestMetricsAllocateNothing(t *testing.T) {
	f := newFixture(t)
	mr := metrictest.New(t)
	serveWith := func(mp metric.MeterProvider) func() {
		h := middleware.HTTP(middleware.WithTracerProvider(f.tp), middleware.WithLogger(slog.New(slog.DiscardHandler)),
			middleware.WithMeterProvider(mp))(metricsMux(nil, nil))
		req := httptest.NewRequest("GET", "/users/1", nil)
		return func() { h.ServeHTTP(httptest.NewRecorder(), req) }
	}
	off := testing.AllocsPerRun(200, serveWith(noop.NewMeterProvider()))
	on := testing.AllocsPerRun(200, serveWith(mr.Provider))
	if on > off {
		t.Errorf("got %v allocations per request with metrics, %v without: want no more", on, off)
	}
	if p := metrictest.Find(t, mr.Collect(t), serverDuration, nil); p.Count < 200 {
		t.Errorf("got %d requests measured, want the 201 served", p.Count)
	}
}
