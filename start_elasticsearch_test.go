package glassbox

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/internal/estest"
	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/trace"
)

func esGetenv(m map[string]string) Option {
	return getenvOption(func(k string) string { return m[k] })
}

func esStart(t *testing.T, opts ...Option) *Telemetry {
	t.Helper()
	tel, err := Start(context.Background(), append([]Option{WithLogWriter(nil), WithoutSetDefault(), WithServiceName("Checkout API")}, opts...)...)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return tel
}

func esShutdown(t *testing.T, tel *Telemetry) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tel.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

func TestElasticsearchZeroConfigOpensNoConnection(t *testing.T) {
	cfg, err := newConfig([]Option{esGetenv(nil)})
	if err != nil {
		t.Fatal(err)
	}
	b := &builder{cfg: cfg}
	if err := setupElasticsearch(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if len(b.sinks) != 0 || len(b.spanProcessors) != 0 || len(b.shutdown) != 0 {
		t.Fatalf("got %d sinks, %d span processors, %d shutdowns; want none", len(b.sinks), len(b.spanProcessors), len(b.shutdown))
	}
}

func TestElasticsearchFromEnvironment(t *testing.T) {
	srv := estest.New(t, estest.WithAPIKey("k3y"))
	spool := t.TempDir()
	tel := esStart(t, esGetenv(map[string]string{
		"ELASTICSEARCH_URL":                srv.URL(),
		"ELASTICSEARCH_API_KEY":            "k3y",
		"GLASSBOX_SPOOL_DIR":               spool,
		"GLASSBOX_ELASTICSEARCH_TEMPLATES": "true",
		"GLASSBOX_ELASTICSEARCH_RETENTION": "7d",
	}))
	ctx := trace.WithCorrelationID(context.Background(), "corr-es-1")
	ctx, span := tel.TracerProvider().Tracer("t").Start(ctx, "work")
	tel.Logger().InfoContext(ctx, "inside", "http", "plain string next to ECS http.*")
	span.End()
	esShutdown(t, tel)

	logs := srv.Docs("logs-checkout_api-default")
	if len(logs) != 1 {
		t.Fatalf("got %d log documents in logs-checkout_api-default, want 1", len(logs))
	}
	var doc map[string]any
	if err := json.Unmarshal(logs[0].Source, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["correlation.id"] != "corr-es-1" || doc["trace.id"] != span.SpanContext().TraceID().String() {
		t.Errorf("got correlation.id %v trace.id %v, want corr-es-1 and the span's trace", doc["correlation.id"], doc["trace.id"])
	}
	spans := srv.Docs("traces-checkout_api-default")
	if len(spans) != 1 {
		t.Fatalf("got %d span documents, want 1", len(spans))
	}
	if m := srv.Mapping("logs-checkout_api-default"); m["@timestamp"] != "date_nanos" || m["correlation.id"] != "keyword" {
		t.Errorf("templates not applied: @timestamp %q correlation.id %q", m["@timestamp"], m["correlation.id"])
	}
	req, _ := http.NewRequest("GET", srv.URL()+"/_ilm/policy/"+elasticsearch.PolicyName, nil)
	req.Header.Set("Authorization", "ApiKey k3y")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("ILM policy: got HTTP %d, want 200", res.StatusCode)
	}
	if _, err := os.Stat(spool); err != nil {
		t.Errorf("spool directory: %v", err)
	}
}

func TestElasticsearchCodeOptionsWinOverEnvironment(t *testing.T) {
	srv := estest.New(t)
	tel := esStart(t,
		esGetenv(map[string]string{"ELASTICSEARCH_URL": "http://127.0.0.1:1"}),
		WithElasticsearch(elasticsearch.WithAddresses(srv.URL())),
	)
	tel.Logger().Info("hello")
	esShutdown(t, tel)
	if n := len(srv.Docs("logs-*")); n != 1 {
		t.Fatalf("got %d documents at the option's address, want 1", n)
	}
}

func TestElasticsearchBadEnvironment(t *testing.T) {
	cases := []struct {
		name, key, value, want string
	}{
		{"url", "ELASTICSEARCH_URL", "localhost:9200", "ELASTICSEARCH_URL"},
		{"url with password", "ELASTICSEARCH_URL", "ftp://u:hunter2@host", "ELASTICSEARCH_URL"},
		{"ca cert", "ELASTICSEARCH_CA_CERT", filepath.Join(t.TempDir(), "missing.pem"), "ELASTICSEARCH_CA_CERT"},
		{"templates", "GLASSBOX_ELASTICSEARCH_TEMPLATES", "perhaps", "GLASSBOX_ELASTICSEARCH_TEMPLATES"},
		{"retention", "GLASSBOX_ELASTICSEARCH_RETENTION", "-3d", "GLASSBOX_ELASTICSEARCH_RETENTION"},
		{"spool mode", "GLASSBOX_SPOOL_MODE", "sometimes", "GLASSBOX_SPOOL_MODE"},
		{"spool fsync", "GLASSBOX_SPOOL_FSYNC", "every", "GLASSBOX_SPOOL_FSYNC"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := map[string]string{c.key: c.value}
			if c.key != "ELASTICSEARCH_URL" {
				env["ELASTICSEARCH_URL"] = "http://127.0.0.1:1"
			}
			_, err := Start(context.Background(), esGetenv(env), WithLogWriter(nil), WithoutSetDefault())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got error %v, want one naming %s", err, c.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

func TestElasticsearchDownShutdownReturnsByDeadline(t *testing.T) {
	srv := estest.New(t)
	if err := srv.SetRefused(true); err != nil {
		t.Fatal(err)
	}
	tel := esStart(t, esGetenv(map[string]string{"ELASTICSEARCH_URL": srv.URL()}))
	for i := 0; i < 100; i++ {
		tel.Logger().Info("while Elasticsearch is down", "i", i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := tel.Shutdown(ctx)
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("Shutdown took %v with a 300ms deadline", took)
	}
	if err == nil {
		t.Errorf("got nil error, want the deadline's error")
	}
}

func TestElasticsearchSpanDocumentsRedacted(t *testing.T) {
	srv := estest.New(t)
	tel := esStart(t,
		esGetenv(map[string]string{"ELASTICSEARCH_URL": srv.URL(), "GLASSBOX_REDACT_KEYS": "customer.email"}),
		WithRedactKeys("order.note"),
	)
	_, span := tel.TracerProvider().Tracer("t").Start(context.Background(), "checkout")
	span.SetAttributes(
		attribute.String("password", "hunter2"),
		attribute.String("customer.email", "ann@example.com"),
		attribute.String("order.note", "leave at door"),
		attribute.String("order.id", "o-7"),
		attribute.String("correlation.id", "not valid\"}"),
	)
	span.End()
	esShutdown(t, tel)
	if st := tel.Stats(); !st.Enabled.Elasticsearch || st.Elasticsearch.Delivered != 1 {
		t.Errorf("got Stats().Elasticsearch %+v, want 1 delivered", st)
	}

	spans := srv.Docs("traces-checkout_api-default")
	if len(spans) != 1 {
		t.Fatalf("got %d span documents, want 1", len(spans))
	}
	var doc map[string]any
	if err := json.Unmarshal(spans[0].Source, &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"password", "customer.email", "order.note"} {
		if doc[k] != log.Redacted {
			t.Errorf("got %s = %#v, want %q", k, doc[k], log.Redacted)
		}
	}
	if doc["order.id"] != "o-7" {
		t.Errorf("got order.id %#v, want o-7", doc["order.id"])
	}
	if v, ok := doc["correlation.id"]; ok {
		t.Errorf("got correlation.id %#v for an invalid ID, want none", v)
	}
	for _, secret := range []string{"hunter2", "ann@example.com", "leave at door", "not valid"} {
		if strings.Contains(string(spans[0].Source), secret) {
			t.Errorf("got %q stored, want it left out: %s", secret, spans[0].Source)
		}
	}
}
