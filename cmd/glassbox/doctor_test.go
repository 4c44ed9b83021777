package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	oteltrace "go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"

	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/internal/doctor"
	"github.com/glassbox-obs/glassbox/internal/estest"
	"github.com/glassbox-obs/glassbox/internal/otlptest"
	"github.com/glassbox-obs/glassbox/internal/sentrytest"
	"github.com/glassbox-obs/glassbox/internal/spool"
	"github.com/glassbox-obs/glassbox/log"
)

// ship writes log records and spans stamped at through the real
// exporter, configured by vars as a service is, and makes them
// searchable.
func ship(t *testing.T, srv *estest.Server, vars map[string]string, logs, spans int, at time.Time) {
	t.Helper()
	ctx := context.Background()
	exp, err := elasticsearch.New(elasticsearch.WithGetenv(func(k string) string { return vars[k] }),
		elasticsearch.WithService(log.Service{Name: "checkout"}), elasticsearch.WithFlushInterval(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	h := log.NewHandler(log.WithSink(exp.LogSink()))
	for i := 0; i < logs; i++ {
		if err := h.Handle(ctx, slog.NewRecord(at, slog.LevelInfo, "order placed", 0)); err != nil {
			t.Fatal(err)
		}
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp.SpanExporter()))
	for i := 0; i < spans; i++ {
		_, sp := tp.Tracer("test").Start(ctx, "GET /orders", oteltrace.WithTimestamp(at))
		sp.End(oteltrace.WithTimestamp(at.Add(time.Millisecond)))
	}
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := exp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if s := exp.Stats(); s.Delivered != int64(logs+spans) {
		t.Fatalf("shipped %d documents, want %d: %+v", s.Delivered, logs+spans, s)
	}
	res, err := esapi.IndicesRefreshRequest{Index: []string{"logs-*-*", "traces-*-*"}}.Do(ctx, testCluster(t, srv, vars["ELASTICSEARCH_API_KEY"]))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
}

// installTemplates runs "glassbox setup elasticsearch" with vars.
func installTemplates(t *testing.T, vars map[string]string) {
	t.Helper()
	if code, _, stderr := cli(t, vars, "setup", "elasticsearch"); code != exitOK {
		t.Fatalf("setup elasticsearch: %d %s", code, stderr)
	}
}

// block returns the line of check name in doctor's text output, with the
// indented lines under it.
func block(stdout, name string) string {
	lines := strings.Split(stdout, "\n")
	for i, l := range lines {
		if f := strings.Fields(l); len(f) > 1 && f[1] == name {
			out := []string{l}
			for _, next := range lines[i+1:] {
				if !strings.HasPrefix(next, "      ") {
					break
				}
				out = append(out, next)
			}
			return strings.Join(out, "\n")
		}
	}
	return ""
}

// healthy sets up every backend doctor checks, healthy, and returns the
// variables that point at them.
func healthy(t *testing.T) (map[string]string, *estest.Server) {
	t.Helper()
	es := estest.New(t, estest.WithAPIKey("a2V5"))
	httpCol, grpcCol := otlptest.NewHTTP(t), otlptest.NewGRPC(t)
	sentry := sentrytest.NewServer(t)
	vars := map[string]string{
		"OTEL_SERVICE_NAME":                   "checkout",
		"OTEL_RESOURCE_ATTRIBUTES":            "service.version=1.4.2,deployment.environment.name=staging",
		"GLASSBOX_LOG_LEVEL":                  "info",
		"ELASTICSEARCH_URL":                   es.URL(),
		"ELASTICSEARCH_API_KEY":               "a2V5",
		"GLASSBOX_SPOOL_DIR":                  filepath.Join(t.TempDir(), "spool"),
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT":  httpCol.Endpoint() + "/v1/traces",
		"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT":    grpcCol.Endpoint(),
		"OTEL_EXPORTER_OTLP_LOGS_PROTOCOL":    "grpc",
		"OTEL_METRICS_EXPORTER":               "otlp",
		"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": httpCol.Endpoint() + "/v1/metrics",
		"SENTRY_DSN":                          sentry.DSN(),
	}
	installTemplates(t, vars)
	ship(t, es, vars, 3, 2, time.Now())
	return vars, es
}

func TestDoctorAllHealthy(t *testing.T) {
	noLeaks(t)
	vars, _ := healthy(t)
	code, stdout, stderr := cli(t, vars, "doctor")
	if code != exitOK || stderr != "" {
		t.Fatalf("got %d, stderr %q:\n%s", code, stderr, stdout)
	}
	for _, name := range doctor.Names() {
		if b := block(stdout, name); !strings.HasPrefix(b, "PASS") {
			t.Errorf("check %s: %q, want PASS", name, b)
		}
	}
	for _, want := range []string{
		"3 log and 2 span documents since",
		"Elasticsearch " + estest.Version,
		fmt.Sprintf("5 objects installed, version %d", elasticsearch.TemplateVersion),
		"authenticated with ELASTICSEARCH_API_KEY",
		"(http/protobuf) accepts traces",
		"(grpc) accepts logs",
		"/v1/metrics (http/protobuf) accepts metrics",
		"(project " + sentrytest.ProjectID + ") accepts the key",
		"spool: writable, empty",
		"\n13 passed\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "a2V5") {
		t.Error("the output shows the API key")
	}
}

func TestDoctorJSON(t *testing.T) {
	noLeaks(t)
	vars, _ := healthy(t)
	vars["GLASSBOX_LOG_FORMAT"] = "yaml"
	code, stdout, stderr := cli(t, vars, "doctor", "--json")
	if code != exitNotFound || stderr != "" {
		t.Fatalf("got %d, stderr %q", code, stderr)
	}
	var doc struct {
		Healthy bool           `json:"healthy"`
		Counts  map[string]int `json:"counts"`
		Checks  []map[string]any
	}
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("stdout is not the documented JSON: %v\n%s", err, stdout)
	}
	if doc.Healthy || doc.Counts["fail"] != 1 || doc.Counts["pass"] != 12 || doc.Counts["warn"] != 0 || doc.Counts["skip"] != 0 {
		t.Errorf("got healthy %v, counts %v; want unhealthy, 1 fail, 12 pass", doc.Healthy, doc.Counts)
	}
	var names []string
	for _, c := range doc.Checks {
		names = append(names, c["name"].(string))
		for k := range c {
			switch k {
			case "name", "status", "summary", "details", "fix":
			default:
				t.Errorf("check %v has an undocumented field %q", c["name"], k)
			}
		}
	}
	if strings.Join(names, " ") != strings.Join(doctor.Names(), " ") {
		t.Errorf("got checks %v, want %v", names, doctor.Names())
	}
	cfg := doc.Checks[0]
	if cfg["status"] != "fail" || !strings.Contains(cfg["details"].([]any)[0].(string), `GLASSBOX_LOG_FORMAT: unknown format "yaml"`) || cfg["fix"] == "" {
		t.Errorf("config check: %v", cfg)
	}
}

func TestDoctorNothingConfigured(t *testing.T) {
	code, stdout, _ := cli(t, nil, "doctor")
	if code != exitOK || !strings.HasPrefix(block(stdout, "config"), "PASS") || !strings.Contains(stdout, "1 passed, 12 skipped") {
		t.Fatalf("got %d:\n%s", code, stdout)
	}
}

// Each failing condition prints its line, with what to do, and exits 1.
func TestDoctorFailures(t *testing.T) {
	noLeaks(t)
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, vars map[string]string)
		check string
		want  []string // in the check's block
	}{
		{"elasticsearch unreachable", func(t *testing.T, v map[string]string) { v["ELASTICSEARCH_URL"] = closedURL(t) },
			"elasticsearch.reachable", []string{"FAIL", "connection refused", "fix: check ELASTICSEARCH_URL"}},
		{"wrong API key", func(t *testing.T, v map[string]string) { v["ELASTICSEARCH_API_KEY"] = "d3Jvbmc=" },
			"elasticsearch.auth", []string{"FAIL", "refused the credentials (HTTP 401)", "fix: check ELASTICSEARCH_API_KEY"}},
		{"no credentials", func(t *testing.T, v map[string]string) { delete(v, "ELASTICSEARCH_API_KEY") },
			"elasticsearch.auth", []string{"FAIL", "HTTP 401", "fix: no credentials were sent"}},
		{"templates missing", func(t *testing.T, v map[string]string) {
			srv := estest.New(t, estest.WithAPIKey("a2V5"))
			v["ELASTICSEARCH_URL"] = srv.URL()
			ship(t, srv, v, 1, 1, time.Now())
		}, "elasticsearch.templates", []string{"FAIL", "5 of 5 objects missing", "missing: _index_template/glassbox-logs", "fix: run: glassbox setup elasticsearch"}},
		{"version too old", func(t *testing.T, v map[string]string) {
			srv := estest.New(t, estest.WithAPIKey("a2V5"), estest.WithVersion("8.12.2"))
			v["ELASTICSEARCH_URL"] = srv.URL()
			ship(t, srv, v, 1, 1, time.Now())
		}, "elasticsearch.version", []string{"FAIL", "Elasticsearch 8.12.2 is older than 8.13.0", "fix: upgrade Elasticsearch to 8.13 or newer"}},
		{"templates of an older glassbox", func(t *testing.T, v map[string]string) {
			putOlderTemplate(t, v, "_index_template/glassbox-logs")
		}, "elasticsearch.templates", []string{"FAIL", "1 of 5 outdated or changed",
			fmt.Sprintf("outdated: _index_template/glassbox-logs (version %d, this glassbox has %d)", elasticsearch.TemplateVersion-1, elasticsearch.TemplateVersion),
			"fix: run: glassbox setup elasticsearch"}},
		{"empty data streams", func(t *testing.T, v map[string]string) {
			srv := estest.New(t, estest.WithAPIKey("a2V5"))
			v["ELASTICSEARCH_URL"] = srv.URL()
			installTemplates(t, v)
		}, "elasticsearch.data", []string{"FAIL", "no document in logs-*-* or traces-*-* since", "fix: is a service running with ELASTICSEARCH_URL set"}},
		{"no read privilege", func(t *testing.T, v map[string]string) {
			srv := estest.New(t, estest.WithAPIKey("a2V5"))
			v["ELASTICSEARCH_URL"] = srv.URL()
			installTemplates(t, v)
			ship(t, srv, v, 2, 2, time.Now())
			srv.Forbid("doctor", "viewer", estest.ActionSearch)
		}, "elasticsearch.data", []string{"FAIL", "no document in logs-*-* or traces-*-*", "may lack the read privilege on logs-*-* and traces-*-*"}},
		{"only old documents", func(t *testing.T, v map[string]string) {
			srv := estest.New(t, estest.WithAPIKey("a2V5"))
			v["ELASTICSEARCH_URL"] = srv.URL()
			installTemplates(t, v)
			ship(t, srv, v, 2, 2, time.Now().Add(-2*time.Hour))
		}, "elasticsearch.data", []string{"FAIL", "no document in logs-*-* or traces-*-*"}},
		{"bad DSN", func(t *testing.T, v map[string]string) { v["SENTRY_DSN"] = "https://sentry.example.com/42" },
			"config", []string{"FAIL", "SENTRY_DSN: invalid DSN: no public key", "fix: correct the variables"}},
		{"DSN of another key", func(t *testing.T, v map[string]string) {
			v["SENTRY_DSN"] = strings.Replace(v["SENTRY_DSN"], sentrytest.PublicKey, "ffffffffffffffffffffffffffffffff", 1)
		}, "sentry", []string{"FAIL", "HTTP 401", "fix: the key or the project of SENTRY_DSN was refused"}},
		{"spool under a file", func(t *testing.T, v map[string]string) { v["GLASSBOX_SPOOL_DIR"] = filepath.Join(file, "spool") },
			"spool", []string{"FAIL", "cannot be created: " + file + " is not a directory", "fix: point GLASSBOX_SPOOL_DIR"}},
		{"spool is a file", func(t *testing.T, v map[string]string) { v["GLASSBOX_SPOOL_DIR"] = file },
			"spool", []string{"FAIL", file + ": not a directory"}},
		{"collector down", func(t *testing.T, v map[string]string) {
			v["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = closedURL(t) + "/v1/traces"
		},
			"otlp.traces", []string{"FAIL", "connection refused", "fix: start the collector"}},
		{"metrics collector down", func(t *testing.T, v map[string]string) {
			v["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"] = closedURL(t) + "/v1/metrics"
		}, "otlp.metrics", []string{"FAIL", "/v1/metrics (http/protobuf)", "connection refused", "fix: start the collector, or correct OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"}},
		{"metrics collector refuses over gRPC", func(t *testing.T, v map[string]string) {
			col := otlptest.NewGRPC(t)
			col.FailAll(otlptest.Metrics, otlptest.Fault{Code: codes.Unauthenticated})
			v["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"] = col.Endpoint()
			v["OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"] = "grpc"
		}, "otlp.metrics", []string{"FAIL", "(grpc)", "Unauthenticated", "fix: the collector refused the request's credentials: check OTEL_EXPORTER_OTLP_HEADERS"}},
		{"collector refuses the headers", func(t *testing.T, v map[string]string) {
			col := otlptest.NewHTTP(t)
			col.FailAll(otlptest.Traces, otlptest.Fault{HTTPStatus: 401})
			v["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = col.Endpoint() + "/v1/traces"
		}, "otlp.traces", []string{"FAIL", "HTTP 401", "fix: the collector refused the request's credentials: check OTEL_EXPORTER_OTLP_HEADERS"}},
		{"gRPC protocol on an HTTP collector", func(t *testing.T, v map[string]string) {
			v["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = otlptest.NewHTTP(t).Endpoint()
			v["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] = "grpc"
		}, "otlp.traces", []string{"FAIL", "(grpc): the server speaks http/protobuf, not grpc", "fix: set OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/protobuf, or point OTEL_EXPORTER_OTLP_TRACES_ENDPOINT at the collector's grpc port (4317)"}},
		{"HTTP protocol on a gRPC collector", func(t *testing.T, v map[string]string) {
			v["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = otlptest.NewGRPC(t).Endpoint() + "/v1/traces"
		}, "otlp.traces", []string{"FAIL", "(http/protobuf): the server speaks grpc, not http/protobuf", "fix: set OTEL_EXPORTER_OTLP_PROTOCOL=grpc"}},
		{"TLS to a plain collector", func(t *testing.T, v map[string]string) {
			v["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = strings.Replace(v["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"], "http:", "https:", 1)
		}, "otlp.traces", []string{"FAIL", "fix: the collector does not speak TLS: use http:// in OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"}},
		{"bad protocol", func(t *testing.T, v map[string]string) { v["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/json" },
			"config", []string{"FAIL", `OTEL_EXPORTER_OTLP_PROTOCOL: unsupported OTLP protocol "http/json"`}},
		{"bad log level", func(t *testing.T, v map[string]string) { v["GLASSBOX_LOG_LEVEL"] = "loud" },
			"config", []string{"FAIL", `GLASSBOX_LOG_LEVEL: unknown level "loud"`}},
		{"bad spool mode", func(t *testing.T, v map[string]string) { v["GLASSBOX_SPOOL_MODE"] = "sometimes" },
			"config", []string{"FAIL", `GLASSBOX_SPOOL_MODE: "sometimes" is not`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars, _ := healthy(t)
			tc.setup(t, vars)
			code, stdout, _ := cli(t, vars, "doctor", "--timeout", "10s")
			b := block(stdout, tc.check)
			for _, want := range tc.want {
				if !strings.Contains(b, want) {
					t.Errorf("%s lacks %q:\n%s", tc.check, want, b)
				}
			}
			if code != exitNotFound {
				t.Errorf("got exit %d, want %d:\n%s", code, exitNotFound, stdout)
			}
			if n := strings.Count("\n"+stdout, "\nFAIL"); n != 1 {
				t.Errorf("got %d failed checks, want only %s:\n%s", n, tc.check, stdout)
			}
		})
	}
}

// putOlderTemplate replaces the installed object at path (one of
// elasticsearch.Templates) by the same body as an older glassbox version
// installed it: its _meta.glassbox_version one less.
func putOlderTemplate(t *testing.T, vars map[string]string, path string) {
	t.Helper()
	for _, tpl := range elasticsearch.Templates(0) {
		if tpl.Path != path {
			continue
		}
		var body map[string]any
		if err := json.Unmarshal(tpl.Body, &body); err != nil {
			t.Fatal(err)
		}
		body["_meta"].(map[string]any)["glassbox_version"] = elasticsearch.TemplateVersion - 1
		b, _ := json.Marshal(body)
		req, err := http.NewRequest(http.MethodPut, vars["ELASTICSEARCH_URL"]+"/"+path, bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "ApiKey "+vars["ELASTICSEARCH_API_KEY"])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("PUT %s: HTTP %d", path, res.StatusCode)
		}
		return
	}
	t.Fatalf("no template %s", path)
}

// A spool holding batches and a dead-letter file are reported, and do not
// fail the run.
func TestDoctorSpoolAndDeadLetter(t *testing.T) {
	noLeaks(t)
	vars, _ := healthy(t)
	dir := vars["GLASSBOX_SPOOL_DIR"]
	sp, err := spool.Open(dir, spool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := sp.Append(10, []byte(strings.Repeat("d", 100))); err != nil {
			t.Fatal(err)
		}
	}
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
	letter := `{"@timestamp":"2026-01-02T03:04:05Z","status":400,"error":{"type":"document_parsing_exception","reason":"failed to parse field [count]"},"action":{"create":{"_index":"logs-checkout-default","_id":"x"}},"document":{}}`
	if err := os.WriteFile(elasticsearch.DefaultDeadLetterFile(dir), []byte(letter+"\n"+letter+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ := cli(t, vars, "doctor")
	if code != exitOK {
		t.Fatalf("got %d:\n%s", code, stdout)
	}
	for name, want := range map[string][]string{
		"spool":                     {"PASS", "writable, holds 3 records (30 documents", "waiting to be sent"},
		"elasticsearch.dead_letter": {"WARN", "2 documents rejected by Elasticsearch", "logs-checkout-default: HTTP 400 document_parsing_exception: failed to parse field [count]", "Reading the dead-letter file"},
	} {
		b := block(stdout, name)
		for _, w := range want {
			if !strings.Contains(b, w) {
				t.Errorf("%s lacks %q:\n%s", name, w, b)
			}
		}
	}
}

// The backends are checked at the same time: two collector requests that
// hang are both pending before either is answered.
func TestDoctorChecksInParallel(t *testing.T) {
	noLeaks(t)
	col := otlptest.NewHTTP(t)
	col.FailAll(otlptest.Traces, otlptest.Fault{Hang: true})
	col.FailAll(otlptest.Logs, otlptest.Fault{Hang: true})
	vars := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": col.Endpoint()}
	var (
		wg     sync.WaitGroup
		code   int
		stdout string
	)
	wg.Go(func() { code, stdout, _ = cli(t, vars, "doctor", "--timeout", "1m") })
	col.WaitRequests(t, otlptest.Traces, 1)
	col.WaitRequests(t, otlptest.Logs, 1)
	col.Release() // both were waiting: answered 503 now
	wg.Wait()
	if code != exitNotFound || !strings.Contains(block(stdout, "otlp.traces"), "HTTP 503") || !strings.Contains(block(stdout, "otlp.logs"), "HTTP 503") {
		t.Errorf("got %d:\n%s", code, stdout)
	}
}

// --timeout bounds each request: a cluster that does not answer fails the
// check instead of stalling the run.
func TestDoctorTimeout(t *testing.T) {
	noLeaks(t)
	srv := estest.New(t)
	srv.SetDelay(time.Hour)
	code, stdout, _ := cli(t, map[string]string{"ELASTICSEARCH_URL": srv.URL()}, "doctor", "--timeout", "100ms")
	if b := block(stdout, "elasticsearch.reachable"); code != exitNotFound || !strings.Contains(b, "FAIL") || !strings.Contains(b, "no answer within 100ms") {
		t.Errorf("got %d:\n%s", code, stdout)
	}
	srv.Close()
}

func TestDoctorUsage(t *testing.T) {
	for _, args := range [][]string{{"doctor", "extra"}, {"doctor", "--timeout", "0s"}, {"doctor", "--nope"}} {
		if code, stdout, _ := cli(t, nil, args...); code != exitUsage || stdout != "" {
			t.Errorf("%v: got %d, stdout %q; want %d", args, code, stdout, exitUsage)
		}
	}
	code, stdout, _ := cli(t, nil, "help", "doctor")
	if code != exitOK {
		t.Fatalf("help doctor: %d", code)
	}
	for _, name := range doctor.Names() {
		if !strings.Contains(stdout, name) {
			t.Errorf("help doctor does not describe the check %s", name)
		}
	}
	for _, want := range []string{"usage: glassbox doctor", "Examples:", "Exit status:", "-json", "-timeout", `"healthy"`, `"counts"`, `"checks"`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("help doctor lacks %q", want)
		}
	}
}

// A collector and a Sentry that do not answer fail their checks with the
// timeout named, as a silent cluster does.
func TestDoctorTimeoutOtherBackends(t *testing.T) {
	noLeaks(t)
	col := otlptest.NewGRPC(t)
	col.FailAll(otlptest.Traces, otlptest.Fault{Hang: true})
	col.FailAll(otlptest.Logs, otlptest.Fault{Hang: true})
	sentry := sentrytest.NewServer(t)
	sentry.SetDelay(time.Hour)
	vars := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": col.Endpoint(), "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "SENTRY_DSN": sentry.DSN()}
	code, stdout, _ := cli(t, vars, "doctor", "--timeout", "100ms")
	for _, name := range []string{"otlp.traces", "otlp.logs", "sentry"} {
		if b := block(stdout, name); !strings.HasPrefix(b, "FAIL") || !strings.Contains(b, "no answer within 100ms") {
			t.Errorf("%s: %q", name, b)
		}
	}
	if code != exitNotFound {
		t.Errorf("got exit %d", code)
	}
	col.ClearFaults()
	sentry.Close()
}
