package file_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glassbox-obs/glassbox/exporter/file"
)

// newExporter starts an Exporter in a fresh directory and shuts it down
// when the test ends (a second Shutdown is harmless).
func newExporter(t *testing.T, opts ...file.Option) (*file.Exporter, string) {
	t.Helper()
	dir := t.TempDir()
	exp, err := file.New(append([]file.Option{file.WithDir(dir), file.WithErrorHandler(&errs{})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = exp.Shutdown(context.Background()) })
	return exp, dir
}

func shutdown(t *testing.T, exp *file.Exporter) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := exp.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

// files returns the names of the .ndjson files in dir, sorted.
func files(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".ndjson") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names
}

// lines reads a file and checks that every line is one JSON object.
func lines(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		t.Errorf("%s does not end with a newline", filepath.Base(path))
	}
	var out [][]byte
	for _, l := range bytes.Split(bytes.TrimSuffix(b, []byte{'\n'}), []byte{'\n'}) {
		if len(l) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("%s: line is not a JSON object: %v: %.80q", filepath.Base(path), err, l)
		}
		out = append(out, l)
	}
	return out
}

// errs records what the error handler received.
type errs struct {
	mu   sync.Mutex
	list []error
}

func (e *errs) Handle(err error) {
	e.mu.Lock()
	e.list = append(e.list, err)
	e.mu.Unlock()
}

func (e *errs) all() []error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]error(nil), e.list...)
}

// checkAccounted fails unless every produced document is written or
// dropped: nothing is in flight.
func checkAccounted(t *testing.T, st file.Stats) {
	t.Helper()
	if st.InFlight() != 0 || st.QueuedBytes != 0 {
		t.Errorf("after Shutdown: produced %d = written %d + dropped %+v + in flight %d, queued bytes %d; want nothing in flight",
			st.Produced, st.Written, st.Dropped, st.InFlight(), st.QueuedBytes)
	}
}
