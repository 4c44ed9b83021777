package glassbox

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glassbox-obs/glassbox/exporter/file"
	"github.com/glassbox-obs/glassbox/trace"
)

func TestFileOffByDefault(t *testing.T) {
	tel, _ := startT(t, env())
	if tel.Stats().Enabled.File {
		t.Error("file export is on without GLASSBOX_FILE_DIR or WithFileDir")
	}
}

// TestFileFromEnv: GLASSBOX_FILE_DIR turns the file exporter on; logs and
// spans land there as the console's bytes and span documents, and Shutdown
// leaves nothing in flight.
func TestFileFromEnv(t *testing.T) {
	dir := t.TempDir()
	tel, console := startT(t, env("GLASSBOX_FILE_DIR", dir, "OTEL_SERVICE_NAME", "orders"))
	ctx, span := tel.TracerProvider().Tracer("t").Start(context.Background(), "work")
	ctx = trace.WithCorrelationID(ctx, "corr-file")
	tel.Logger().InfoContext(ctx, "step one")
	span.End()
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	logs, err := os.ReadFile(filepath.Join(dir, "logs-orders-default.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(logs, console.Bytes()) {
		t.Errorf("logs file %q differs from the console output %q", logs, console.Bytes())
	}
	spans, err := os.ReadFile(filepath.Join(dir, "traces-orders-default.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(spans), `"span.name":"work"`) || !strings.Contains(string(spans), `"service.name":"orders"`) {
		t.Errorf("traces file: got %s, want the span document of \"work\"", spans)
	}
	st := tel.Stats()
	if !st.Enabled.File || st.File.Written != 2 || st.File.InFlight() != 0 {
		t.Errorf("got %+v, want file enabled, 2 written, nothing in flight", st.File)
	}
}

// TestWithFileDirWins: the code option beats the environment, and its
// exporter options apply.
func TestWithFileDirWins(t *testing.T) {
	envDir, codeDir := t.TempDir(), t.TempDir()
	tel, _ := startT(t, env("GLASSBOX_FILE_DIR", envDir, "OTEL_SERVICE_NAME", "orders"),
		WithFileDir(codeDir, file.WithMaxFiles(2)))
	tel.Logger().Info("hello")
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(codeDir, "logs-orders-default.ndjson")); err != nil {
		t.Errorf("WithFileDir directory not used: %v", err)
	}
	if ents, _ := os.ReadDir(envDir); len(ents) != 0 {
		t.Errorf("GLASSBOX_FILE_DIR used although WithFileDir was given: %v", ents)
	}
}

func TestFileDirUnusable(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Start(context.Background(), env("GLASSBOX_FILE_DIR", filepath.Join(blocker, "sub")), WithoutSetDefault(), WithLogWriter(nil))
	if err == nil || !strings.Contains(err.Error(), "GLASSBOX_FILE_DIR") {
		t.Errorf("got %v, want Start to fail naming GLASSBOX_FILE_DIR", err)
	}
}
