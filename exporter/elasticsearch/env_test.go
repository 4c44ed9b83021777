package elasticsearch_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/internal/estest"
	"github.com/glassbox-obs/glassbox/log"
)

func envOf(m map[string]string) elasticsearch.Option {
	return elasticsearch.WithGetenv(func(k string) string { return m[k] })
}

// envExporter builds an exporter from an environment and a few options.
func envExporter(t *testing.T, env map[string]string, opts ...elasticsearch.Option) *elasticsearch.Exporter {
	t.Helper()
	all := append([]elasticsearch.Option{
		envOf(env),
		elasticsearch.WithService(log.Service{Name: "svc", Dataset: "svc", Namespace: "default", HostName: "h"}),
		elasticsearch.WithFlushInterval(20 * time.Millisecond),
		elasticsearch.WithDeadLetterFile(t.TempDir() + "/dl.ndjson"),
		elasticsearch.WithErrorHandler(&errorSink{}),
	}, opts...)
	exp, err := elasticsearch.New(all...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = exp.Shutdown(ctx)
	})
	return exp
}

func TestNewReadsTheEnvironment(t *testing.T) {
	srv := estest.New(t, estest.WithAPIKey("k3y"))
	exp := envExporter(t, map[string]string{
		"ELASTICSEARCH_URL":                " " + srv.URL() + " ",
		"ELASTICSEARCH_API_KEY":            "k3y",
		"ELASTICSEARCH_USERNAME":           "ignored-when-an-api-key-is-set",
		"GLASSBOX_SPOOL_DIR":               t.TempDir(),
		"GLASSBOX_SPOOL_MODE":              "always",
		"GLASSBOX_SPOOL_FSYNC":             "true",
		"GLASSBOX_ELASTICSEARCH_TEMPLATES": "true",
		"GLASSBOX_ELASTICSEARCH_RETENTION": "7d",
	})
	seqDocs(t, exp.LogSink(), 0, 3)
	flush(t, exp)
	if s := exp.Stats(); s.Delivered != 3 || s.Journaled != 3 {
		t.Fatalf("got delivered %d journaled %d, want 3 and 3 (spool mode always)", s.Delivered, s.Journaled)
	}
	if m := srv.Mapping(exp.LogsDataStream()); m["@timestamp"] != "date_nanos" {
		t.Errorf("templates not installed: @timestamp mapped %q", m["@timestamp"])
	}
	res, err := exp.Cluster().Perform(mustRequest(t, http.MethodGet, "/_ilm/policy/"+elasticsearch.PolicyName))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if !strings.Contains(string(body), `"min_age":"7d"`) {
		t.Errorf("ILM policy does not keep 7 days: %s", body)
	}
}

func TestNewReadsAuthenticationAndCACertFromTheEnvironment(t *testing.T) {
	srv := estest.New(t, estest.WithTLS(), estest.WithBasicAuth("elastic", "pw"))
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, srv.CACert(), 0o600); err != nil {
		t.Fatal(err)
	}
	exp := envExporter(t, map[string]string{
		"ELASTICSEARCH_URL":      srv.URL(),
		"ELASTICSEARCH_USERNAME": "elastic",
		"ELASTICSEARCH_PASSWORD": "pw",
		"ELASTICSEARCH_CA_CERT":  ca,
	})
	seqDocs(t, exp.LogSink(), 0, 2)
	flush(t, exp)
	if d := exp.Stats().Delivered; d != 2 {
		t.Fatalf("got %d delivered over TLS with basic auth, want 2", d)
	}
}

func TestOptionsWinOverTheEnvironment(t *testing.T) {
	srv := estest.New(t, estest.WithAPIKey("right"))
	exp := envExporter(t, map[string]string{
		"ELASTICSEARCH_URL":     "http://127.0.0.1:1",
		"ELASTICSEARCH_API_KEY": "wrong",
		"GLASSBOX_SPOOL_MODE":   "always",
		"GLASSBOX_SPOOL_DIR":    t.TempDir(),
	}, elasticsearch.WithAddresses(srv.URL()), elasticsearch.WithAPIKey("right"), elasticsearch.WithSpoolMode(elasticsearch.SpoolOnFailure))
	seqDocs(t, exp.LogSink(), 0, 2)
	flush(t, exp)
	if s := exp.Stats(); s.Delivered != 2 || s.Journaled != 0 {
		t.Fatalf("got delivered %d journaled %d, want 2 at the option's address and no write-ahead", s.Delivered, s.Journaled)
	}
}

func TestEnvironmentErrorsNameTheVariable(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ key, value string }{
		{"ELASTICSEARCH_URL", "localhost:9200"},
		{"ELASTICSEARCH_URL", "http://ok:9200,ftp://u:hunter2@host"},
		{"ELASTICSEARCH_CA_CERT", filepath.Join(t.TempDir(), "missing.pem")},
		{"ELASTICSEARCH_CA_CERT", notPEM},
		{"GLASSBOX_SPOOL_MODE", "sometimes"},
		{"GLASSBOX_SPOOL_FSYNC", "every"},
		{"GLASSBOX_ELASTICSEARCH_TEMPLATES", "perhaps"},
		{"GLASSBOX_ELASTICSEARCH_RETENTION", "-3d"},
		{"GLASSBOX_ELASTICSEARCH_RETENTION", "a week"},
	}
	for _, c := range cases {
		t.Run(c.key+"="+c.value, func(t *testing.T) {
			for _, build := range []func(...elasticsearch.Option) error{
				func(o ...elasticsearch.Option) error { _, err := elasticsearch.New(o...); return err },
				func(o ...elasticsearch.Option) error { _, err := elasticsearch.Connect(o...); return err },
			} {
				err := build(envOf(map[string]string{c.key: c.value}))
				if err == nil || !strings.Contains(err.Error(), c.key) {
					t.Fatalf("got error %v, want one naming %s", err, c.key)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error leaks the password: %v", err)
				}
			}
		})
	}
	if _, err := elasticsearch.New(elasticsearch.WithGetenv(nil), elasticsearch.WithSpoolMode("sometimes")); err == nil || !strings.Contains(err.Error(), "WithSpoolMode") {
		t.Errorf("got error %v for a bad WithSpoolMode, want one naming it", err)
	}
}

// recordingTransport records the hosts it is asked for and fails.
type recordingTransport struct {
	mu    sync.Mutex
	hosts []string
}

func (r *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.hosts = append(r.hosts, req.URL.Scheme+"://"+req.URL.Host)
	r.mu.Unlock()
	return nil, errors.New("recording transport: not sent")
}

func TestCloudIDFromTheEnvironment(t *testing.T) {
	// "name:" + base64("example.invalid:443$abc123$kibana456")
	id := "my-deployment:ZXhhbXBsZS5pbnZhbGlkOjQ0MyRhYmMxMjMka2liYW5hNDU2"
	rt := &recordingTransport{}
	cl, err := elasticsearch.Connect(envOf(map[string]string{"ELASTICSEARCH_CLOUD_ID": id}), elasticsearch.WithTransport(rt))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close(context.Background())
	if _, err := cl.Ping(context.Background()); err == nil {
		t.Fatal("Ping through a failing transport succeeded")
	}
	if len(rt.hosts) != 1 || rt.hosts[0] != "https://abc123.example.invalid:443" {
		t.Fatalf("got requests to %v, want https://abc123.example.invalid:443", rt.hosts)
	}
	if _, err := elasticsearch.Connect(envOf(map[string]string{"ELASTICSEARCH_CLOUD_ID": "no-colon"})); err == nil {
		t.Errorf("got no error for a malformed cloud ID")
	}
	// ELASTICSEARCH_URL wins over the cloud ID.
	rt2 := &recordingTransport{}
	cl2, err := elasticsearch.Connect(envOf(map[string]string{"ELASTICSEARCH_CLOUD_ID": id, "ELASTICSEARCH_URL": "http://es.invalid:9200"}), elasticsearch.WithTransport(rt2))
	if err != nil {
		t.Fatal(err)
	}
	defer cl2.Close(context.Background())
	_, _ = cl2.Ping(context.Background())
	if len(rt2.hosts) != 1 || rt2.hosts[0] != "http://es.invalid:9200" {
		t.Fatalf("got requests to %v, want http://es.invalid:9200", rt2.hosts)
	}
}

// ParseRetention is the parser of GLASSBOX_ELASTICSEARCH_RETENTION, for
// tools that take a retention as a flag.
func TestParseRetention(t *testing.T) {
	day := 24 * time.Hour
	for _, c := range []struct {
		in   string
		want time.Duration
	}{
		{"30d", 30 * day}, {"1d", day}, {"720h", 30 * day}, {"90m", 90 * time.Minute},
		{"0d", 0}, {"-3d", 0}, {"d", 0}, {"a week", 0}, {"", 0}, {"-1h", 0}, {"1.5d", 0},
	} {
		got, err := elasticsearch.ParseRetention(c.in)
		if got != c.want || (err == nil) != (c.want > 0) {
			t.Errorf("ParseRetention(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

func TestDefaultDeadLetterFile(t *testing.T) {
	if got, want := elasticsearch.DefaultDeadLetterFile("/var/lib/svc/spool"), filepath.Join("/var/lib/svc/spool", "dead-letter.ndjson"); got != want {
		t.Errorf("with a spool: got %q, want %q", got, want)
	}
	if got, want := elasticsearch.DefaultDeadLetterFile(""), filepath.Join(os.TempDir(), "glassbox-dead-letter.ndjson"); got != want {
		t.Errorf("without a spool: got %q, want %q", got, want)
	}
}
