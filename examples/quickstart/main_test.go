package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"

	"github.com/glassbox-obs/glassbox/internal/otlptest"
	"github.com/glassbox-obs/glassbox/internal/testutil"
)

// TestQuickstartIsTheREADMEProgram: what a newcomer pastes from README.md
// is this program, byte for byte (the root package's README test builds
// it; this one runs it).
func TestQuickstartIsTheREADMEProgram(t *testing.T) {
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range testutil.READMEPrograms(t) {
		if p.Source == string(src) {
			return
		}
	}
	t.Fatal("README.md shows no program identical to examples/quickstart/main.go; update one from the other")
}

// TestSIGTERMFlushesAndExitsZero runs the quickstart as a deploy would
// stop it: it serves a request, its records wait in the OTLP queues (the
// schedule delays are ten minutes), then SIGTERM. The records logged
// before the signal must reach the collector, and the process exit 0.
func TestSIGTERMFlushesAndExitsZero(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "quickstart")
	args := []string{"build", "-o", bin}
	if testutil.RaceEnabled {
		args = append(args, "-race")
	}
	if out, err := testutil.GoCommand(t, testutil.ModuleRoot(t), nil, append(args, "./examples/quickstart")...).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	col := otlptest.NewHTTP(t)
	cmd := exec.Command(bin)
	cmd.Env = []string{
		"ADDR=127.0.0.1:0",
		"OTEL_EXPORTER_OTLP_ENDPOINT=" + col.Endpoint(),
		"OTEL_BSP_SCHEDULE_DELAY=600000",
		"OTEL_BLRP_SCHEDULE_DELAY=600000",
	}
	var stdout, stderr testutil.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	exited := make(chan struct{})
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // if the test failed before SIGTERM
		<-exited
	})

	addr := waitListening(t, &stdout, exited)
	req, _ := http.NewRequest("GET", "http://"+addr+"/orders/42", nil)
	req.Header.Set("X-Correlation-ID", "deploy-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(body, []byte("order 42\n")) {
		t.Fatalf("GET /orders/42: got %d %q, want 200 \"order 42\\n\"", resp.StatusCode, body)
	}
	if n := len(col.Logs()) + len(col.Spans()); n != 0 {
		t.Fatalf("collector got %d items before the signal, want none (they wait in the queues)", n)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		if waitErr != nil {
			t.Fatalf("exit after SIGTERM: %v, want status 0; stderr: %s", waitErr, stderr.String())
		}
	case <-time.After(otlptest.WaitTimeout):
		t.Fatal("the quickstart did not exit after SIGTERM")
	}

	byMessage := map[string]string{}
	for _, r := range col.Logs() {
		for _, kv := range r.Record.GetAttributes() {
			if kv.GetKey() == "correlation.id" {
				byMessage[r.Record.GetBody().GetStringValue()] = kv.GetValue().GetStringValue()
			}
		}
	}
	for _, msg := range []string{"loading order", "request completed"} {
		if got := byMessage[msg]; got != "deploy-1" {
			t.Errorf("record %q at the collector: correlation.id %q, want deploy-1 (all: %v)", msg, got, byMessage)
		}
	}
	spans := col.Spans()
	if len(spans) != 1 || !hasAttr(spans[0].Span.GetAttributes(), "correlation.id", "deploy-1") {
		t.Errorf("spans at the collector: got %d, want the request's server span with correlation.id deploy-1", len(spans))
	}
	if s := stderr.String(); s != "" {
		t.Errorf("stderr: got %q, want nothing", s)
	}
}

// waitListening waits for the "listening" record on the console and
// returns the address it names.
func waitListening(t *testing.T, stdout *testutil.Buffer, exited <-chan struct{}) string {
	t.Helper()
	select {
	case <-stdout.Written(`"message":"listening"`):
	case <-exited:
		t.Fatalf("the quickstart exited before listening; stdout: %s", stdout.String())
	case <-time.After(otlptest.WaitTimeout):
		t.Fatalf("no \"listening\" record on stdout: %s", stdout.String())
	}
	var addr string
	// The record's line is complete at once in practice; a pipe may still
	// hand it over in two reads.
	testutil.WaitFor(t, otlptest.WaitTimeout, "the whole listening record", func() bool {
		for _, line := range strings.SplitAfter(stdout.String(), "\n") {
			var doc map[string]any
			if strings.HasSuffix(line, "\n") && json.Unmarshal([]byte(line), &doc) == nil && doc["message"] == "listening" {
				addr, _ = doc["addr"].(string)
				return true
			}
		}
		return false
	})
	return addr
}

func hasAttr(kvs []*commonpb.KeyValue, k, v string) bool {
	for _, kv := range kvs {
		if kv.GetKey() == k && kv.GetValue().GetStringValue() == v {
			return true
		}
	}
	return false
}
