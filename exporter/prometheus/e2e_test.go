//go:build unix

package prometheus_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/glassbox-obs/glassbox/internal/testutil"
)

// prometheusBinary returns the path of Prometheus. It is a failure, not
// a skip, when CI=true (.ci/run installs Debian's prometheus package).
func prometheusBinary(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("prometheus not found on PATH (.ci/run installs Debian's prometheus package): %v", err)
		}
		t.Skip("prometheus not installed (apt-get install prometheus); CI fails instead of skipping")
	}
	return p
}

// freePort returns a loopback port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startPrometheus runs Prometheus on loopback, scraping target (host:port)
// every second at /, with exemplar storage on and a temporary TSDB; it
// returns the base URL of its API. The process group is killed when the
// test ends.
func startPrometheus(t *testing.T, target string) string {
	t.Helper()
	bin := prometheusBinary(t)
	dir := t.TempDir()
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: checkout
    metrics_path: /
    static_configs:
      - targets: [%q]
`, target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	cmd := exec.Command(bin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--enable-feature=exemplar-storage",
		"--log.level=warn",
	)
	logs := &testutil.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		if t.Failed() {
			t.Logf("prometheus output:\n%s", logs.String())
		}
	})
	return "http://" + addr
}

// apiResult is the data of a Prometheus API answer.
func apiResult(base, path string, q url.Values, into any) error {
	resp, err := http.Get(base + path + "?" + q.Encode())
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var env struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &env); err != nil || env.Status != "success" {
		return fmt.Errorf("%s: %d %s", path, resp.StatusCode, b)
	}
	return json.Unmarshal(env.Data, into)
}

// TestRealPrometheusScrapesRoutesAndExemplars: a real Prometheus scrapes
// tel.MetricsHandler() of a service under traffic, stores
// http_server_request_duration_seconds by route, and keeps exemplars
// that carry the trace IDs (and correlation IDs) of the requests, which
// lead to "glassbox trace <id>".
func TestRealPrometheusScrapesRoutesAndExemplars(t *testing.T) {
	s := newService(t)
	traces := map[string]string{} // trace ID -> correlation ID
	for i := range 20 {
		tid := fmt.Sprintf("%032x", 0xabc0000+i)
		corr := "order-" + strconv.Itoa(i)
		traces[tid] = corr
		s.get(t, "/orders/"+strconv.Itoa(i), "traceparent", "00-"+tid+"-00f067aa0ba902b7-01", "X-Correlation-ID", corr)
	}
	base := startPrometheus(t, strings.TrimPrefix(s.metrics.URL, "http://"))

	selector := `http_server_request_duration_seconds_count{service_name="checkout",http_route="/orders/{id}"}`
	var series []struct {
		Metric map[string]string `json:"metric"`
		Value  []any             `json:"value"`
	}
	testutil.WaitFor(t, 90*time.Second, "Prometheus to store the route's series", func() bool {
		series = nil
		err := apiResult(base, "/api/v1/query", url.Values{"query": {selector}}, &struct {
			Result any `json:"result"`
		}{Result: &series})
		return err == nil && len(series) > 0
	})
	if got := series[0].Value[1]; got != "20" {
		t.Errorf("got count %v, want 20", got)
	}

	type exemplar struct {
		Labels map[string]string `json:"labels"`
	}
	var found exemplar
	testutil.WaitFor(t, 90*time.Second, "an exemplar with a request's trace ID", func() bool {
		var out []struct {
			Exemplars []exemplar `json:"exemplars"`
		}
		now := time.Now()
		q := url.Values{
			"query": {`http_server_request_duration_seconds_bucket{service_name="checkout"}`},
			"start": {strconv.FormatInt(now.Add(-10*time.Minute).Unix(), 10)},
			"end":   {strconv.FormatInt(now.Add(time.Minute).Unix(), 10)},
		}
		if apiResult(base, "/api/v1/query_exemplars", q, &out) != nil {
			return false
		}
		for _, s := range out {
			for _, e := range s.Exemplars {
				if _, ok := traces[e.Labels["trace_id"]]; ok {
					found = e
					return true
				}
			}
		}
		return false
	})
	if want := traces[found.Labels["trace_id"]]; found.Labels["correlation_id"] != want || len(found.Labels["span_id"]) != 16 {
		t.Errorf("got exemplar labels %v, want the span ID and correlation ID %q of trace %s", found.Labels, want, found.Labels["trace_id"])
	}
}
