package doctor_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/internal/doctor"
	"github.com/glassbox-obs/glassbox/internal/estest"
	"github.com/glassbox-obs/glassbox/internal/otlptest"
)

func run(t *testing.T, o doctor.Options, vars map[string]string) map[string]doctor.Result {
	t.Helper()
	o.Getenv = func(k string) string { return vars[k] }
	out := map[string]doctor.Result{}
	for _, r := range doctor.Run(context.Background(), o).Checks {
		out[r.Name] = r
	}
	return out
}

// A local clock off by more than 2 s is a warning, in either direction;
// off by more than a minute (the margin of the Kibana links) a failure
// that makes the report unhealthy. The cluster's Date header is the
// reference.
func TestClockSkew(t *testing.T) {
	srv := estest.New(t)
	vars := map[string]string{"ELASTICSEARCH_URL": srv.URL()}
	for _, tc := range []struct {
		offset time.Duration
		status doctor.Status
		want   string
	}{
		{0, doctor.Pass, "within 2s"},
		{-10 * time.Second, doctor.Warn, "10s behind Elasticsearch's"},
		{45 * time.Second, doctor.Warn, "45s ahead of Elasticsearch's"},
		{90 * time.Second, doctor.Fail, "1m30s ahead of Elasticsearch's (more than 1m)"},
		{-3 * time.Hour, doctor.Fail, "3h0m0s behind Elasticsearch's"},
	} {
		o := doctor.Options{Now: func() time.Time { return time.Now().Add(tc.offset) }, Getenv: func(k string) string { return vars[k] }}
		rep := doctor.Run(context.Background(), o)
		var r doctor.Result
		for _, c := range rep.Checks {
			if c.Name == doctor.CheckESClock {
				r = c
			}
		}
		if r.Status != tc.status || !strings.Contains(r.Summary, tc.want) {
			t.Errorf("offset %v: got %s %q, want %s %q", tc.offset, r.Status, r.Summary, tc.status, tc.want)
		}
		if tc.status != doctor.Pass && !strings.Contains(r.Fix, "NTP") {
			t.Errorf("offset %v: fix %q", tc.offset, r.Fix)
		}
		if tc.status == doctor.Fail && (rep.Healthy() || !strings.Contains(r.Fix, "Kibana links")) {
			t.Errorf("offset %v: healthy %v, fix %q; want unhealthy and the links named", tc.offset, rep.Healthy(), r.Fix)
		}
	}
}

// Credentials that are valid but lack privileges (HTTP 403 on everything
// but the data the service writes) are warnings that name the privilege,
// not failures: the exporter's API key needs none of them.
func TestPrivilegesMissing(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"error":{"type":"security_exception","reason":"action is unauthorized for API key id [x]"},"status":403}`)
	}))
	defer srv.Close()
	got := run(t, doctor.Options{}, map[string]string{"ELASTICSEARCH_URL": srv.URL, "ELASTICSEARCH_API_KEY": "a2V5"})
	for name, want := range map[string]struct {
		status doctor.Status
		text   string
	}{
		doctor.CheckESReachable: {doctor.Pass, "answers"},
		doctor.CheckESAuth:      {doctor.Warn, "the monitor cluster privilege"},
		doctor.CheckESVersion:   {doctor.Skip, "not allowed"},
		doctor.CheckESTemplates: {doctor.Warn, "the read_ilm and manage_index_templates (or monitor) cluster privileges"},
		doctor.CheckESData:      {doctor.Warn, "the read privilege on logs-*-* and traces-*-*"},
	} {
		r := got[name]
		if r.Status != want.status || !strings.Contains(r.Summary+r.Fix, want.text) {
			t.Errorf("%s: got %s %q / %q, want %s and %q", name, r.Status, r.Summary, r.Fix, want.status, want.text)
		}
	}
}

// A spool directory that does not exist yet passes when it can be
// created, and is not created by the check.
func TestSpoolNotYetCreated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b", "spool")
	r := run(t, doctor.Options{}, map[string]string{"GLASSBOX_SPOOL_DIR": dir})[doctor.CheckSpool]
	if r.Status != doctor.Pass || !strings.Contains(r.Summary, "does not exist yet") {
		t.Errorf("got %s %q", r.Status, r.Summary)
	}
	if _, err := os.Stat(filepath.Dir(filepath.Dir(dir))); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the check created a directory (%v)", err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(filepath.Dir(filepath.Dir(dir)))); len(ents) != 0 {
		t.Errorf("the check left %d entries in the writable ancestor", len(ents))
	}
}

func TestReportText(t *testing.T) {
	rep := &doctor.Report{Checks: []doctor.Result{
		{Name: "config", Status: doctor.Pass, Summary: "2 variables set, all parse", Details: []string{"A B"}},
		{Name: "elasticsearch.data", Status: doctor.Fail, Summary: "no document", Fix: "ship some"},
		{Name: "sentry", Status: doctor.Skip, Summary: "SENTRY_DSN is not set"},
	}}
	var b bytes.Buffer
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"PASS  config              2 variables set, all parse\n" +
		"                          A B\n" +
		"FAIL  elasticsearch.data  no document\n" +
		"                          fix: ship some\n" +
		"SKIP  sentry              SENTRY_DSN is not set\n" +
		"\n" +
		"1 failed, 1 passed, 1 skipped\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	if rep.Healthy() {
		t.Error("a report with a failed check is healthy")
	}
}

// A password in an endpoint URL is not shown.
func TestEndpointPasswordHidden(t *testing.T) {
	vars := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://user:hunter2@127.0.0.1:1"}
	var b bytes.Buffer
	rep := doctor.Run(context.Background(), doctor.Options{Getenv: func(k string) string { return vars[k] }})
	if err := rep.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "hunter2") || !strings.Contains(b.String(), "http://user:xxxxx@127.0.0.1:1") {
		t.Errorf("the report shows the password, or not the endpoint:\n%s", b.String())
	}
}

// Templates installed with another retention than the environment asks
// for (GLASSBOX_ELASTICSEARCH_RETENTION) are not current: the check names
// the policy and the two retentions; with the same retention it passes.
func TestTemplatesOfAnotherRetention(t *testing.T) {
	srv := estest.New(t)
	cl, err := elasticsearch.Connect(elasticsearch.WithGetenv(nil), elasticsearch.WithAddresses(srv.URL()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close(context.Background())
	if _, err := cl.InstallTemplates(context.Background(), elasticsearch.InstallOptions{Retention: 30 * 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		retention string
		status    doctor.Status
		detail    string
	}{
		{"7d", doctor.Fail, "not glassbox's: _ilm/policy/glassbox (retention 30d to 7d)"},
		{"720h", doctor.Pass, ""},
		{"", doctor.Pass, ""},
	} {
		r := run(t, doctor.Options{}, map[string]string{"ELASTICSEARCH_URL": srv.URL(), "GLASSBOX_ELASTICSEARCH_RETENTION": tc.retention})[doctor.CheckESTemplates]
		if r.Status != tc.status || (tc.detail != "" && (len(r.Details) != 1 || r.Details[0] != tc.detail)) {
			t.Errorf("retention %q: got %s %q %q, want %s %q", tc.retention, r.Status, r.Summary, r.Details, tc.status, tc.detail)
		}
	}
}

// otlp.metrics is checked when OTEL_METRICS_EXPORTER names otlp (also
// beside none or prometheus, as Start reads it), with the metrics
// variables first; skipped otherwise, even with an endpoint set, since
// metrics are opt-in in code.
func TestOTLPMetrics(t *testing.T) {
	col := otlptest.NewGRPC(t)
	for _, tc := range []struct {
		vars   map[string]string
		status doctor.Status
		want   string
	}{
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": col.Endpoint()}, doctor.Skip, "OTEL_METRICS_EXPORTER does not name otlp"},
		{map[string]string{"OTEL_METRICS_EXPORTER": "prometheus", "OTEL_EXPORTER_OTLP_ENDPOINT": col.Endpoint()}, doctor.Skip, "does not name otlp"},
		{map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, doctor.Skip, "OTEL_SDK_DISABLED"},
		{map[string]string{"OTEL_METRICS_EXPORTER": "prometheus,otlp", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": col.Endpoint(), "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "grpc"},
			doctor.Pass, "(grpc) accepts metrics"},
		{map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": col.Endpoint(), "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "http/protobuf"},
			doctor.Fail, "/v1/metrics (http/protobuf): the server speaks grpc"},
	} {
		r := run(t, doctor.Options{Timeout: 10 * time.Second}, tc.vars)[doctor.CheckOTLPMetrics]
		if r.Status != tc.status || !strings.Contains(r.Summary, tc.want) {
			t.Errorf("%v: got %s %q, want %s %q", tc.vars, r.Status, r.Summary, tc.status, tc.want)
		}
	}
	if n := len(col.Requests(otlptest.Metrics)); n == 0 {
		t.Error("no metrics export reached the collector")
	}
}
