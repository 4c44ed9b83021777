package glassbox

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	oteltrace "go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/glassbox-obs/glassbox/internal/estest"
	"github.com/glassbox-obs/glassbox/internal/testutil"
	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/middleware/breakglass"
	"github.com/glassbox-obs/glassbox/middleware/grpcmw"
)

var debugKey = breakglass.Key{ID: "ops", Secret: []byte("0123456789abcdef0123456789abcdef")}

func debugKeysEnv() string { return "ops:" + base64.StdEncoding.EncodeToString(debugKey.Secret) }

// service is one program of a test: its Telemetry, console and spans.
type service struct {
	tel   *Telemetry
	logs  *testutil.Buffer
	spans *tracetest.InMemoryExporter
}

func startService(t *testing.T, kv ...string) *service {
	t.Helper()
	s := &service{logs: &testutil.Buffer{}, spans: tracetest.NewInMemoryExporter()}
	tel, err := Start(context.Background(), env(kv...), WithLogWriter(s.logs), WithoutSetDefault(),
		WithSpanProcessor(sdktrace.NewSimpleSpanProcessor(s.spans)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	s.tel = tel
	return s
}

// records returns "message/level" of each record.
func (s *service) records(t *testing.T) []map[string]any {
	t.Helper()
	return testutil.JSONLines(t, s.logs.String())
}

func (s *service) has(t *testing.T, msg, level string) map[string]any {
	t.Helper()
	for _, r := range s.records(t) {
		if r["message"] == msg && r["log.level"] == level {
			return r
		}
	}
	return nil
}

func (s *service) traceIDs() map[oteltrace.TraceID]int {
	out := map[oteltrace.TraceID]int{}
	for _, sp := range s.spans.GetSpans() {
		out[sp.SpanContext.TraceID()]++
	}
	return out
}

type healthFunc func(ctx context.Context) error

type debugHealth struct {
	healthpb.UnimplementedHealthServer
	f healthFunc
}

func (h debugHealth) Check(ctx context.Context, _ *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	if err := h.f(ctx); err != nil {
		return nil, err
	}
	return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, nil
}

// A debugged request is debugged downstream too: an HTTP service and a
// gRPC service with the same keys log its DEBUG records and sample its
// trace (every service samples nothing otherwise), from a grant in the
// tracestate, never the token; a service without the keys only follows
// the sampled flag.
func TestBreakGlassAcrossServices(t *testing.T) {
	keys := debugKeysEnv()
	edge := startService(t, "OTEL_SERVICE_NAME", "edge", EnvDebugKeys, keys, "OTEL_TRACES_SAMPLER", "always_off")
	ledger := startService(t, "OTEL_SERVICE_NAME", "ledger", EnvDebugKeys, keys, "OTEL_TRACES_SAMPLER", "always_off")
	payments := startService(t, "OTEL_SERVICE_NAME", "payments", EnvDebugKeys, keys, "OTEL_TRACES_SAMPLER", "always_off")
	inventory := startService(t, "OTEL_SERVICE_NAME", "inventory", "OTEL_TRACES_SAMPLER", "parentbased_always_off")

	var (
		mu            sync.Mutex
		ledgerHeaders http.Header
	)
	ledgerSrv := httptest.NewServer(middleware.HTTP(ledger.tel.MiddlewareOptions()...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ledgerHeaders = r.Header.Clone()
		mu.Unlock()
		ledger.tel.Logger().DebugContext(r.Context(), "ledger detail")
	})))
	defer ledgerSrv.Close()
	inventorySrv := httptest.NewServer(middleware.HTTP(inventory.tel.MiddlewareOptions()...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inventory.tel.Logger().DebugContext(r.Context(), "inventory detail")
	})))
	defer inventorySrv.Close()

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpcmw.ServerOptions(append(payments.tel.MiddlewareOptions(), middleware.WithSkipGRPCMethods())...)...)
	healthpb.RegisterHealthServer(gs, debugHealth{f: func(ctx context.Context) error {
		payments.tel.Logger().DebugContext(ctx, "payments detail")
		return nil
	}})
	served := make(chan struct{})
	go func() { defer close(served); _ = gs.Serve(lis) }()
	defer func() { gs.Stop(); <-served }()
	conn, err := grpc.NewClient(lis.Addr().String(), append(grpcmw.DialOptions(edge.tel.MiddlewareOptions()...),
		grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	client := &http.Client{Transport: middleware.Transport(nil, edge.tel.MiddlewareOptions()...)}
	get := func(ctx context.Context, url string) error {
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.Body.Close()
	}
	edgeSrv := httptest.NewServer(middleware.HTTP(edge.tel.MiddlewareOptions()...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		edge.tel.Logger().DebugContext(ctx, "edge detail")
		err := errors.Join(get(ctx, ledgerSrv.URL+"/entries"), get(ctx, inventorySrv.URL+"/stock"))
		if _, gerr := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); gerr != nil {
			err = errors.Join(err, gerr)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
		}
	})))
	defer edgeSrv.Close()

	call := func(token string) {
		t.Helper()
		req, _ := http.NewRequest("GET", edgeSrv.URL+"/checkout", nil)
		if token != "" {
			req.Header.Set(breakglass.Header, token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("edge: %d %s", resp.StatusCode, body)
		}
	}

	// Without a token: nothing below INFO, no span anywhere.
	call("")
	for _, s := range []*service{edge, ledger, payments, inventory} {
		if strings.Contains(s.logs.String(), `"log.level":"debug"`) || len(s.spans.GetSpans()) != 0 {
			t.Fatalf("an ordinary request was debugged or sampled:\n%s", s.logs)
		}
	}

	tok, err := breakglass.Mint(debugKey, 10*time.Minute, "GET /checkout", "edge")
	if err != nil {
		t.Fatal(err)
	}
	call(tok)

	edgeTrace := oteltrace.TraceID{}
	for id := range edge.traceIDs() {
		edgeTrace = id
	}
	if len(edge.traceIDs()) != 1 || !edgeTrace.IsValid() {
		t.Fatalf("edge spans: %v, want one sampled trace", edge.traceIDs())
	}
	for _, c := range []struct {
		s      *service
		name   string
		detail string
		action string
	}{
		{edge, "edge", "edge detail", "debug-token-accepted"},
		{ledger, "ledger", "ledger detail", "debug-grant-accepted"},
		{payments, "payments", "payments detail", "debug-grant-accepted"},
	} {
		if c.s.has(t, c.detail, "debug") == nil {
			t.Errorf("%s: no DEBUG record:\n%s", c.name, c.s.logs)
		}
		a := c.s.has(t, "break-glass debugging on", "warn")
		if a == nil || a["event.action"] != c.action || a["glassbox.debug.key_id"] != "ops" || a["trace.id"] != edgeTrace.String() {
			t.Errorf("%s: audit record %v", c.name, a)
		}
		if ids := c.s.traceIDs(); len(ids) != 1 || ids[edgeTrace] == 0 {
			t.Errorf("%s: sampled traces %v, want only the edge's %s", c.name, ids, edgeTrace)
		}
	}
	if inventory.has(t, "inventory detail", "debug") != nil || strings.Contains(inventory.logs.String(), "break-glass") {
		t.Errorf("inventory has no keys, but was debugged:\n%s", inventory.logs)
	}
	if ids := inventory.traceIDs(); ids[edgeTrace] == 0 {
		t.Errorf("inventory did not follow the sampled flag: %v", ids)
	}
	mu.Lock()
	sent := ledgerHeaders
	mu.Unlock()
	if sent.Get(breakglass.Header) != "" || strings.Contains(strings.Join(sent.Values("Tracestate"), ","), tok) {
		t.Errorf("the token went downstream: %v", sent)
	}
	grant := ""
	for _, m := range strings.Split(sent.Get("Tracestate"), ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(m), "glassbox="); ok {
			grant = v
		}
	}
	if !strings.HasPrefix(grant, "d1.ops.") {
		t.Fatalf("tracestate sent to the ledger: %q, want a glassbox grant", sent.Get("Tracestate"))
	}
	if st := edge.tel.Stats().BreakGlass; st.Accepted != 1 {
		t.Errorf("edge stats: %+v", st)
	}
	if st := ledger.tel.Stats().BreakGlass; st.GrantsAccepted != 1 {
		t.Errorf("ledger stats: %+v", st)
	}

	// The grant, copied onto another trace, is refused.
	req, _ := http.NewRequest("GET", ledgerSrv.URL+"/entries", nil)
	req.Header.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	req.Header.Set("tracestate", "glassbox="+grant)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if st := ledger.tel.Stats().BreakGlass; st.GrantsAccepted != 1 || st.GrantsRefused != 1 {
		t.Errorf("ledger stats after a moved grant: %+v", st)
	}
}

// The audit record reaches Elasticsearch, mapped, and one query finds it.
func TestBreakGlassAuditInElasticsearch(t *testing.T) {
	srv := estest.New(t)
	edge := startService(t, "OTEL_SERVICE_NAME", "edge", EnvDebugKeys, debugKeysEnv(),
		"ELASTICSEARCH_URL", srv.URL(), "GLASSBOX_ELASTICSEARCH_TEMPLATES", "true")
	h := middleware.HTTP(edge.tel.MiddlewareOptions()...)(http.NotFoundHandler())
	tok, _ := breakglass.Mint(debugKey, 5*time.Minute, "", "")
	req := httptest.NewRequest("GET", "/orders/42", nil)
	req.Header.Set(breakglass.Header, tok)
	req.Header.Set("X-Correlation-ID", "ticket-4711")
	h.ServeHTTP(httptest.NewRecorder(), req)
	esShutdown(t, edge.tel)
	if resp, err := http.Post(srv.URL()+"/logs-edge-default/_refresh", "application/json", nil); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}

	// Who turned debugging on, still valid now: one query.
	body := `{"query":{"bool":{"filter":[{"term":{"event.category":"iam"}},{"term":{"glassbox.debug.key_id":"ops"}},` +
		`{"range":{"glassbox.debug.expires":{"gt":"` + time.Now().UTC().Format(time.RFC3339) + `"}}}]}}}`
	resp, err := http.Post(srv.URL()+"/logs-edge-default/_search", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res struct {
		Hits struct {
			Hits []struct {
				Source map[string]any `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&res); err != nil || len(res.Hits.Hits) != 1 {
		t.Fatalf("search: %v, %s", err, raw)
	}
	doc := res.Hits.Hits[0].Source
	if doc["correlation.id"] != "ticket-4711" || doc["event.action"] != "debug-token-accepted" || doc["log.level"] != "warn" {
		t.Errorf("audit document: %v", doc)
	}
	if strings.Contains(string(raw), tok) {
		t.Error("the token is in Elasticsearch")
	}
	m := srv.Mapping("logs-edge-default")
	if m["glassbox.debug.expires"] != "date" || m["event.category"] != "keyword" {
		t.Errorf("mapping: expires %q, category %q", m["glassbox.debug.expires"], m["event.category"])
	}
}

func TestDebugKeysEnv(t *testing.T) {
	_, err := Start(context.Background(), env(EnvDebugKeys, "ops:c2hvcnQ="), WithLogWriter(nil), WithoutSetDefault())
	if err == nil || !strings.Contains(err.Error(), EnvDebugKeys) || strings.Contains(err.Error(), "c2hvcnQ") {
		t.Errorf("got %v, want an error naming %s without the secret", err, EnvDebugKeys)
	}
	tel, _ := startT(t, env())
	if st := tel.Stats(); st.Enabled.BreakGlass {
		t.Error("break-glass on without keys")
	}
	tel, _ = startT(t, env(), WithDebugKeys(debugKey))
	if st := tel.Stats(); !st.Enabled.BreakGlass || st.Enabled.FlightRecorder {
		t.Errorf("WithDebugKeys: enabled %+v, want break-glass on and the flight recorder off", st.Enabled)
	}
}

// The debug sampler's base is the sampler the environment names, as the
// SDK would have read it.
func TestSamplerFromEnv(t *testing.T) {
	for _, tc := range []struct{ name, arg, want string }{
		{"", "", "ParentBased{root:AlwaysOnSampler"},
		{"always_off", "", "AlwaysOffSampler"},
		{"traceidratio", "0.25", "TraceIDRatioBased{0.25}"},
		{"parentbased_traceidratio", "0.5", "ParentBased{root:TraceIDRatioBased{0.5}"},
		{"parentbased_always_off", "", "ParentBased{root:AlwaysOffSampler"},
		{"traceidratio", "2", "TraceIDRatioBased{1}"},
		{"jaeger_remote", "", "ParentBased{root:AlwaysOnSampler"},
	} {
		var reported []error
		s := samplerFromEnv(func(k string) string {
			return map[string]string{"OTEL_TRACES_SAMPLER": tc.name, "OTEL_TRACES_SAMPLER_ARG": tc.arg}[k]
		}, func(err error) { reported = append(reported, err) })
		if got := DebugSampler(s).Description(); !strings.HasPrefix(got, "GlassboxDebug{"+tc.want) {
			t.Errorf("%s %s: got %s, want %s", tc.name, tc.arg, got, tc.want)
		}
		if bad := tc.arg == "2" || tc.name == "jaeger_remote"; bad != (len(reported) == 1) {
			t.Errorf("%s %s: reported %v", tc.name, tc.arg, reported)
		}
	}
}
