package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/glassbox-obs/glassbox"
	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/internal/estest"
	"github.com/glassbox-obs/glassbox/internal/story"
	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/trace"
)

// bigID is a request with more log lines than one search may return
// (index.max_result_window is 10,000), so only paging finds them all.
const (
	bigID    = "import-2026-0001"
	bigLines = 10500
	otherID  = "import-2026-0002"
)

// shipToES writes, through the real Elasticsearch exporter (templates
// installed, bulk requests, the log handler and span exporter glassbox
// uses), one request of bigLines log lines in two spans, and a smaller
// unrelated one; then refreshes so that they are searchable.
func shipToES(t *testing.T, srv *estest.Server, opts ...elasticsearch.Option) {
	t.Helper()
	svc := log.Service{Name: "importer"}
	exp, err := elasticsearch.New(append([]elasticsearch.Option{elasticsearch.WithAddresses(srv.URL()), elasticsearch.WithService(svc),
		elasticsearch.WithTemplates(), elasticsearch.WithQueueBytes(64 << 20), elasticsearch.WithErrorHandler(failHandler{t})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	h := log.NewHandler(log.WithService(svc), log.WithSink(exp.LogSink()))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(glassbox.CorrelationSpanProcessor{}), sdktrace.WithBatcher(exp.SpanExporter()))
	logger := slog.New(h)
	for _, r := range []struct {
		id    string
		lines int
	}{{bigID, bigLines}, {otherID, 100}} {
		ctx := trace.WithCorrelationID(context.Background(), r.id)
		ctx, root := tp.Tracer("importer").Start(ctx, "POST /imports")
		cctx, child := tp.Tracer("importer").Start(ctx, "parse rows")
		for i := 0; i < r.lines; i++ {
			logger.InfoContext(cctx, "row imported", "seq", i)
		}
		if r.id == bigID {
			logger.ErrorContext(ctx, "import failed", "err", errors.New("row 10500: bad checksum"), "error.id", "0123456789abcdef0123456789abcdef")
			root.SetStatus(codes.Error, "bad checksum")
		}
		child.End()
		root.End()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := exp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if st := exp.Stats(); st.Delivered != int64(bigLines+1+100+4) {
		t.Fatalf("exporter delivered %d documents, want %d: %+v", st.Delivered, bigLines+1+100+4, st)
	}
	refresh(t, srv, func(r *http.Request) { r.Header.Set("Authorization", "ApiKey "+testAPIKey) })
}

const testAPIKey = "dGVzdDprZXk="

// refresh makes what was indexed searchable, as Elasticsearch does every
// second on its own.
func refresh(t *testing.T, srv *estest.Server, auth func(*http.Request)) {
	t.Helper()
	tr := &http.Transport{}
	if ca := srv.CACert(); ca != nil {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(ca)
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest("POST", srv.URL()+"/logs-*,traces-*/_refresh", nil)
	auth(req)
	res, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("refresh: HTTP %d", res.StatusCode)
	}
}

type failHandler struct{ t *testing.T }

func (f failHandler) Handle(err error) { f.t.Errorf("exporter: %v", err) }

func esEnv(srv *estest.Server, kv ...string) map[string]string {
	m := map[string]string{"ELASTICSEARCH_URL": srv.URL(), "ELASTICSEARCH_API_KEY": testAPIKey}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// TestTraceElasticsearch: more than 10,000 documents of one request,
// written by the real exporter, all come back, each once, through paged
// searches; the other request's do not; the point in time is closed.
func TestTraceElasticsearch(t *testing.T) {
	srv := estest.New(t, estest.WithAPIKey(testAPIKey))
	shipToES(t, srv, elasticsearch.WithAPIKey(testAPIKey))

	code, out, errs := runCLI(t, esEnv(srv), "", "trace", "--json", bigID)
	if code != exitOK || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	var j story.JSON
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatal(err)
	}
	if j.Kind != story.KindCorrelation || j.Truncated || len(j.Spans) != 2 || len(j.Logs) != bigLines+1 {
		t.Fatalf("kind %q truncated %v: %d spans, %d logs; want correlation.id, complete, 2 and %d", j.Kind, j.Truncated, len(j.Spans), len(j.Logs), bigLines+1)
	}
	seen := make([]int, bigLines)
	for _, raw := range j.Logs {
		var d struct {
			Corr string `json:"correlation.id"`
			Seq  *int   `json:"seq"`
		}
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		if d.Corr != bigID {
			t.Fatalf("document of another request: %s", raw)
		}
		if d.Seq != nil {
			seen[*d.Seq]++
		}
	}
	for i, n := range seen {
		if n != 1 {
			t.Fatalf("row %d came back %d times, want once", i, n)
		}
	}
	if n := srv.OpenPITs(); n != 0 {
		t.Errorf("%d points in time left open", n)
	}
	t.Run("limit", func(t *testing.T) { checkLimit(t, srv) })
	t.Run("errors", func(t *testing.T) { checkErrorsWithData(t, srv) })

	// The Sentry event ID and the trace ID find the same story.
	for _, id := range []string{"0123456789ABCDEF0123456789ABCDEF", j.TraceIDs[0]} {
		code, out, errs = runCLI(t, esEnv(srv), "", "trace", "--json", id)
		var k story.JSON
		_ = json.Unmarshal([]byte(out), &k)
		if code != exitOK || len(k.Logs) != bigLines+1 || len(k.Spans) != 2 {
			t.Errorf("%s: exit %d, %d logs %d spans (stderr %q); want the same story", id, code, len(k.Logs), len(k.Spans), errs)
		}
	}

	// The terminal rendering names the source and the window.
	code, out, _ = runCLI(t, esEnv(srv), "", "trace", "--width", "100", otherID)
	if code != exitOK || !strings.Contains(out, "Elasticsearch at "+srv.URL()+" (logs-*,traces-*)") || !strings.Contains(out, "searched") ||
		!strings.Contains(out, "POST /imports") || !strings.Contains(out, "row imported") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
}

// checkLimit: --limit caps the documents, says so on stderr, and the JSON
// says truncated.
func checkLimit(t *testing.T, srv *estest.Server) {
	code, out, errs := runCLI(t, esEnv(srv), "", "trace", "--json", "--limit", "3000", bigID)
	var j story.JSON
	if err := json.Unmarshal([]byte(out), &j); err != nil || code != exitOK {
		t.Fatalf("exit %d, %v", code, err)
	}
	if !j.Truncated || len(j.Spans)+len(j.Logs) != 3000 || !strings.Contains(errs, "only the first 3000 documents") {
		t.Errorf("truncated %v, %d documents, stderr %q; want true, 3000 and a warning", j.Truncated, len(j.Spans)+len(j.Logs), errs)
	}
	if n := srv.OpenPITs(); n != 0 {
		t.Errorf("%d points in time left open after stopping early", n)
	}
}

// TestTraceElasticsearchErrors: each failure says what happened and what
// to do, with its exit code.
func TestTraceElasticsearchErrors(t *testing.T) {
	empty := estest.New(t, estest.WithAPIKey(testAPIKey))
	basic := estest.New(t, estest.WithBasicAuth("elastic", "s3cret"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()

	tests := []esErrorCase{
		{"unreachable", map[string]string{"ELASTICSEARCH_URL": closed}, []string{bigID}, exitUsage,
			"cannot reach Elasticsearch at " + closed, "Check ELASTICSEARCH_URL"},
		{"no credentials", map[string]string{"ELASTICSEARCH_URL": basic.URL()}, []string{bigID}, exitUsage,
			"refused the credentials (HTTP 401)", "ELASTICSEARCH_USERNAME"},
		{"no data stream yet", esEnv(empty), []string{bigID}, exitNotFound,
			"holds no logs-*,traces-* data stream yet", "ELASTICSEARCH_URL set"},
		{"not a URL", map[string]string{"ELASTICSEARCH_URL": "es:9200"}, []string{bigID}, exitUsage,
			`"es:9200" is not an http(s) URL`, "https://localhost:9200"},
		{"CA file missing", esEnv(empty, "ELASTICSEARCH_CA_CERT", "/nonexistent/ca.pem"), []string{bigID}, exitUsage,
			"cannot read ELASTICSEARCH_CA_CERT", "PEM"},
	}
	runErrorCases(t, tests)
}

type esErrorCase struct {
	name      string
	vars      map[string]string
	args      []string
	code      int
	msg, hint string
}

// checkErrorsWithData: the failures that need a cluster with data.
func checkErrorsWithData(t *testing.T, withData *estest.Server) {
	runErrorCases(t, []esErrorCase{
		{"wrong API key", esEnv(withData, "ELASTICSEARCH_API_KEY", "bm9wZTpub3Bl"), []string{bigID}, exitUsage,
			"refused the credentials (HTTP 401)", "ELASTICSEARCH_API_KEY"},
		{"unknown ID", esEnv(withData), []string{"import-9999"}, exitNotFound,
			`no log line or span carries "import-9999"`, "--since"},
		{"window before the data", esEnv(withData), []string{"--since", "2001-01-01", "--until", "2001-01-02", bigID}, exitNotFound,
			"to 2001-01-02 00:00:00 UTC", "--since"},
	})
}

func runErrorCases(t *testing.T, tests []esErrorCase) {
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCLI(t, tt.vars, "", append([]string{"trace"}, tt.args...)...)
			if code != tt.code || out != "" {
				t.Errorf("exit %d, stdout %q; want %d and nothing", code, out, tt.code)
			}
			if !strings.Contains(errs, tt.msg) || !strings.Contains(errs, tt.hint) {
				t.Errorf("stderr:\n%s\nwant %q and %q", errs, tt.msg, tt.hint)
			}
		})
	}
}

// TestTraceElasticsearchAuthAndTLS: basic authentication, and HTTPS with
// ELASTICSEARCH_CA_CERT, as the exporter takes them.
func TestTraceElasticsearchAuthAndTLS(t *testing.T) {
	srv := estest.New(t, estest.WithTLS(), estest.WithBasicAuth("elastic", "s3cret"))
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, srv.CACert(), 0o600); err != nil {
		t.Fatal(err)
	}
	svc := log.Service{Name: "tls"}
	exp, err := elasticsearch.New(elasticsearch.WithAddresses(srv.URL()), elasticsearch.WithService(svc),
		elasticsearch.WithBasicAuth("elastic", "s3cret"), elasticsearch.WithCACert(srv.CACert()), elasticsearch.WithErrorHandler(failHandler{t}))
	if err != nil {
		t.Fatal(err)
	}
	h := log.NewHandler(log.WithService(svc), log.WithSink(exp.LogSink()))
	slog.New(h).InfoContext(trace.WithCorrelationID(context.Background(), "tls-1"), "over https")
	_ = h.Shutdown(context.Background())
	if err := exp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	refresh(t, srv, func(r *http.Request) { r.SetBasicAuth("elastic", "s3cret") })

	vars := map[string]string{"ELASTICSEARCH_URL": srv.URL(), "ELASTICSEARCH_USERNAME": "elastic", "ELASTICSEARCH_PASSWORD": "s3cret", "ELASTICSEARCH_CA_CERT": ca}
	code, out, errs := runCLI(t, vars, "", "trace", "tls-1")
	if code != exitOK || !strings.Contains(out, "over https") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	delete(vars, "ELASTICSEARCH_CA_CERT")
	if code, _, errs := runCLI(t, vars, "", "trace", "tls-1"); code != exitUsage || !strings.Contains(errs, "is not trusted") || !strings.Contains(errs, "ELASTICSEARCH_CA_CERT") {
		t.Errorf("without the CA: exit %d, stderr %q; want 2 and advice naming ELASTICSEARCH_CA_CERT", code, errs)
	}
}
