package file_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/glassbox-obs/glassbox"
	"github.com/glassbox-obs/glassbox/exporter/file"
	"github.com/glassbox-obs/glassbox/internal/ecs/spandoc"
	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/trace"
)

// TestSameBytesAsOtherSinks: the logs file holds exactly the bytes the
// console sink got, and the traces file exactly the span documents the
// Elasticsearch exporter builds (spandoc.Append), one per line.
func TestSameBytesAsOtherSinks(t *testing.T) {
	svc := log.Service{Name: "checkout", Version: "1.2.3"}
	exp, dir := newExporter(t, file.WithService(svc))

	var console bytes.Buffer
	h := log.NewHandler(log.WithService(svc), log.WithSink(exp.LogSink()), log.WithWriter(&console))
	mem := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(glassbox.CorrelationSpanProcessor{}), sdktrace.WithSyncer(mem), sdktrace.WithSpanProcessor(exp.SpanProcessor()))
	logger := slog.New(h)

	ctx := trace.WithCorrelationID(context.Background(), "order-42")
	ctx, span := tp.Tracer("test").Start(ctx, "POST /checkout")
	logger.InfoContext(ctx, "order received", "items", 3)
	logger.ErrorContext(ctx, "payment failed", "err", errors.New("card declined"), "note", "line1\nline2")
	span.SetStatus(codes.Error, "payment failed")
	span.End()
	snaps := mem.GetSpans().Snapshots() // before Shutdown, which clears them

	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := h.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	shutdown(t, exp)

	logsPath, tracesPath := exp.Files()
	if got, want := filepath.Base(logsPath), "logs-checkout-default.ndjson"; got != want {
		t.Errorf("logs file %q, want %q", got, want)
	}
	if got, want := filepath.Base(tracesPath), "traces-checkout-default.ndjson"; got != want {
		t.Errorf("traces file %q, want %q", got, want)
	}
	logs, err := os.ReadFile(filepath.Join(dir, "logs-checkout-default.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(logs, console.Bytes()) {
		t.Errorf("logs file differs from the console output:\n got %s\nwant %s", logs, console.Bytes())
	}
	var want []byte
	for _, s := range snaps {
		svc := svc
		svc.Fill()
		want = append(spandoc.Append(want, s, &svc, log.NewRedactor()), '\n')
	}
	spans, err := os.ReadFile(filepath.Join(dir, "traces-checkout-default.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(spans, want) {
		t.Errorf("traces file differs from the ECS span documents:\n got %s\nwant %s", spans, want)
	}
	if n := len(lines(t, filepath.Join(dir, "traces-checkout-default.ndjson"))); n != 1 {
		t.Errorf("got %d span lines, want 1", n)
	}
	st := exp.Stats()
	if st.Produced != 3 || st.Written != 3 {
		t.Errorf("produced %d written %d, want 3 and 3", st.Produced, st.Written)
	}
	checkAccounted(t, st)
}

// TestRecordWithoutTime: a record slog gave no time gets @timestamp, as in
// Elasticsearch, so that the file stays searchable by time.
func TestRecordWithoutTime(t *testing.T) {
	exp, dir := newExporter(t, file.WithService(log.Service{Name: "svc"}))
	h := log.NewHandler(log.WithSink(exp.LogSink()))
	before := time.Now()
	if err := h.Handle(context.Background(), slog.NewRecord(time.Time{}, slog.LevelInfo, "no time", 0)); err != nil {
		t.Fatal(err)
	}
	shutdown(t, exp)
	ls := lines(t, filepath.Join(dir, "logs-svc-default.ndjson"))
	if len(ls) != 1 || !bytes.HasPrefix(ls[0], []byte(`{"@timestamp":"`)) {
		t.Fatalf("got %q, want one document that begins with @timestamp", ls)
	}
	ts, err := time.Parse(time.RFC3339Nano, string(ls[0][len(`{"@timestamp":"`):bytes.IndexByte(ls[0][15:], '"')+15]))
	if err != nil || ts.Before(before.Add(-time.Second)) {
		t.Errorf("@timestamp %v (%v), want the time the record was handled", ts, err)
	}
}

// TestRotationAndRetention: files never pass the size bound, a document
// is never split, at most MaxFiles files per stream remain, and the newest
// documents are the ones kept.
func TestRotationAndRetention(t *testing.T) {
	const maxBytes, maxFiles, n = 2000, 3, 200
	exp, dir := newExporter(t, file.WithService(log.Service{Name: "svc"}), file.WithMaxBytes(maxBytes), file.WithMaxFiles(maxFiles))
	logger := slog.New(log.NewHandler(log.WithSink(exp.LogSink())))
	for i := 0; i < n; i++ {
		logger.Info("record", "seq", i, "pad", strings.Repeat("x", i%50))
		if i%20 == 0 {
			if err := exp.Flush(context.Background()); err != nil { // many small writes, many rotations
				t.Fatal(err)
			}
		}
	}
	shutdown(t, exp)

	var logFiles []string
	for _, name := range files(t, dir) {
		if strings.HasPrefix(name, "logs-") {
			logFiles = append(logFiles, name)
		}
	}
	if len(logFiles) != maxFiles {
		t.Fatalf("got log files %v, want %d (the active one and %d rotated)", logFiles, maxFiles, maxFiles-1)
	}
	if logFiles[len(logFiles)-1] != "logs-svc-default.ndjson" {
		t.Errorf("active file missing or misnamed: %v", logFiles)
	}
	seen := map[int]bool{}
	last := -1
	// Rotated names sort oldest first; the active file is the newest.
	order := append(append([]string(nil), logFiles[:len(logFiles)-1]...), "logs-svc-default.ndjson")
	sortRotated(order[:len(order)-1])
	for _, name := range order {
		p := filepath.Join(dir, name)
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > maxBytes {
			t.Errorf("%s has %d bytes, more than %d", name, fi.Size(), maxBytes)
		}
		for _, l := range lines(t, p) {
			var seq int
			if _, err := fmt.Sscanf(string(l[bytes.Index(l, []byte(`"seq":`))+6:]), "%d", &seq); err != nil {
				t.Fatalf("no seq in %s", l)
			}
			if seq <= last {
				t.Errorf("seq %d after %d: files out of order", seq, last)
			}
			last = seq
			seen[seq] = true
		}
	}
	if !seen[n-1] {
		t.Errorf("the newest record (seq %d) was not kept", n-1)
	}
	st := exp.Stats()
	if st.Written != n {
		t.Errorf("written %d, want %d (removed rotated files were written before)", st.Written, n)
	}
	checkAccounted(t, st)
}

func sortRotated(names []string) {
	// Rotated names embed a fixed-width UTC time, so lexical order is
	// rotation order.
	for i := 1; i < len(names); i++ {
		for j := i; j > 0 && names[j] < names[j-1]; j-- {
			names[j], names[j-1] = names[j-1], names[j]
		}
	}
}

// TestOversizedDocument: a document larger than MaxBytes is written whole,
// in a file of its own.
func TestOversizedDocument(t *testing.T) {
	exp, dir := newExporter(t, file.WithService(log.Service{Name: "svc"}), file.WithMaxBytes(300))
	logger := slog.New(log.NewHandler(log.WithSink(exp.LogSink())))
	logger.Info("small")
	_ = exp.Flush(context.Background())
	logger.Info("big", "blob", strings.Repeat("b", 1000))
	_ = exp.Flush(context.Background())
	logger.Info("small again")
	shutdown(t, exp)
	var got []string
	for _, name := range files(t, dir) {
		if !strings.HasPrefix(name, "logs-") {
			continue
		}
		for _, l := range lines(t, filepath.Join(dir, name)) {
			var msg string
			i := bytes.Index(l, []byte(`"message":"`)) + 11
			msg = string(l[i : i+bytes.IndexByte(l[i:], '"')])
			got = append(got, name+":"+msg)
		}
	}
	if len(got) != 3 {
		t.Fatalf("got %v, want 3 documents in 3 files", got)
	}
	files := map[string]bool{}
	for _, g := range got {
		files[g[:strings.IndexByte(g, ':')]] = true
	}
	if len(files) != 3 {
		t.Errorf("got %v: want each document in its own file (the big one cannot share)", got)
	}
}

// TestConcurrentWriters: records from many goroutines arrive whole, one
// per line, none lost.
func TestConcurrentWriters(t *testing.T) {
	const workers, each = 8, 500
	exp, dir := newExporter(t, file.WithService(log.Service{Name: "svc"}), file.WithMaxBytes(64<<10), file.WithMaxFiles(1000))
	logger := slog.New(log.NewHandler(log.WithSink(exp.LogSink())))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(exp.SpanProcessor()))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				ctx, span := tp.Tracer("t").Start(context.Background(), "work")
				logger.InfoContext(ctx, "step", "worker", w, "i", i, "text", strings.Repeat("é", i%40))
				span.End()
			}
		}()
	}
	wg.Wait()
	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	shutdown(t, exp)
	var logs, spans int
	for _, name := range files(t, dir) {
		n := len(lines(t, filepath.Join(dir, name)))
		if strings.HasPrefix(name, "logs-") {
			logs += n
		} else {
			spans += n
		}
	}
	if logs != workers*each || spans != workers*each {
		t.Errorf("got %d log and %d span documents, want %d of each", logs, spans, workers*each)
	}
	st := exp.Stats()
	if st.Written != 2*workers*each || st.Dropped.Total() != 0 {
		t.Errorf("written %d dropped %+v, want %d and none", st.Written, st.Dropped, 2*workers*each)
	}
	checkAccounted(t, st)
}

// TestQueueFullDropsAndCounts: a queue too small for any document drops
// every one, counted, and never blocks the caller.
func TestQueueFullDropsAndCounts(t *testing.T) {
	eh := &errs{}
	exp, dir := newExporter(t, file.WithService(log.Service{Name: "svc"}), file.WithQueueBytes(10), file.WithErrorHandler(eh))
	logger := slog.New(log.NewHandler(log.WithSink(exp.LogSink())))
	for i := 0; i < 100; i++ {
		logger.Info("dropped")
	}
	shutdown(t, exp)
	st := exp.Stats()
	if st.Produced != 100 || st.Dropped.QueueFull != 100 || st.Written != 0 {
		t.Errorf("got %+v, want 100 produced, all dropped as queue full", st)
	}
	if len(eh.all()) == 0 || !strings.Contains(st.LastError, "queue full") {
		t.Errorf("queue full not reported: handler got %v, LastError %q", eh.all(), st.LastError)
	}
	if n := len(lines(t, filepath.Join(dir, "logs-svc-default.ndjson"))); n != 0 {
		t.Errorf("got %d lines, want none", n)
	}
	checkAccounted(t, st)
}

// TestWriteFailureCounted: when the directory disappears (rotation cannot
// rename, the file cannot be reopened), documents are counted as
// WriteFailed, reported, and nothing blocks.
func TestWriteFailureCounted(t *testing.T) {
	eh := &errs{}
	exp, dir := newExporter(t, file.WithService(log.Service{Name: "svc"}), file.WithMaxBytes(200), file.WithErrorHandler(eh))
	logger := slog.New(log.NewHandler(log.WithSink(exp.LogSink())))
	logger.Info("first", "pad", strings.Repeat("p", 100))
	if err := exp.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		logger.Info("lost", "pad", strings.Repeat("p", 100))
		_ = exp.Flush(context.Background())
	}
	shutdown(t, exp)
	st := exp.Stats()
	if st.Written != 1 || st.Dropped.WriteFailed != 5 {
		t.Errorf("written %d, write failures %d; want 1 and 5", st.Written, st.Dropped.WriteFailed)
	}
	if len(eh.all()) == 0 || st.LastError == "" {
		t.Error("the write failure was not reported")
	}
	checkAccounted(t, st)
}

// TestAfterShutdown: records and spans after Shutdown are counted, never
// written, never a panic; a second Shutdown returns the first's result.
func TestAfterShutdown(t *testing.T) {
	exp, dir := newExporter(t, file.WithService(log.Service{Name: "svc"}))
	sink := exp.LogSink()
	proc := exp.SpanProcessor()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(proc))
	logger := slog.New(log.NewHandler(log.WithSink(sink)))
	shutdown(t, exp)
	logger.Info("late")
	_, span := tp.Tracer("t").Start(context.Background(), "late")
	span.End()
	if err := exp.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	if err := exp.Flush(context.Background()); err != nil {
		t.Errorf("Flush after Shutdown: %v", err)
	}
	st := exp.Stats()
	if st.Produced != 2 || st.Dropped.Shutdown != 2 {
		t.Errorf("got %+v, want 2 produced, 2 dropped at shutdown", st)
	}
	for _, name := range files(t, dir) {
		if n := len(lines(t, filepath.Join(dir, name))); n != 0 {
			t.Errorf("%s has %d lines, want none", name, n)
		}
	}
	_ = tp.Shutdown(context.Background())
}

// TestShutdownPastDeadline: with the deadline already passed, Shutdown
// returns at once, and whatever it could not write is counted as dropped:
// nothing stays in flight.
func TestShutdownPastDeadline(t *testing.T) {
	exp, _ := newExporter(t, file.WithService(log.Service{Name: "svc"}))
	logger := slog.New(log.NewHandler(log.WithSink(exp.LogSink())))
	for i := 0; i < 2000; i++ {
		logger.Info("record", "i", i)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = exp.Shutdown(ctx) // either outcome is fine; the accounting is not
	st := exp.Stats()
	if st.Produced != 2000 {
		t.Errorf("produced %d, want 2000", st.Produced)
	}
	checkAccounted(t, st)
}

// TestSinkShutdownStopsOnlyItself: the log sink's Shutdown flushes and
// stops logs; spans still go through until the processor and the Exporter
// shut down.
func TestSinkShutdownStopsOnlyItself(t *testing.T) {
	exp, dir := newExporter(t, file.WithService(log.Service{Name: "svc"}))
	h := log.NewHandler(log.WithSink(exp.LogSink()))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(exp.SpanProcessor()))
	slog.New(h).Info("before")
	if err := h.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(lines(t, filepath.Join(dir, "logs-svc-default.ndjson"))); n != 1 {
		t.Errorf("after the sink's Shutdown the logs file has %d lines, want 1 (flushed)", n)
	}
	_, span := tp.Tracer("t").Start(context.Background(), "after")
	span.End()
	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(lines(t, filepath.Join(dir, "traces-svc-default.ndjson"))); n != 1 {
		t.Errorf("traces file has %d lines, want 1", n)
	}
	shutdown(t, exp)
}

// TestTornLineRepaired: a last line left without its newline (a crash in
// the middle of a write) does not swallow the next document.
func TestTornLineRepaired(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "logs-svc-default.ndjson"), []byte("{\"message\":\"whole\"}\n{\"message\":\"torn"), 0o600); err != nil {
		t.Fatal(err)
	}
	exp, err := file.New(file.WithDir(dir), file.WithService(log.Service{Name: "svc"}))
	if err != nil {
		t.Fatal(err)
	}
	slog.New(log.NewHandler(log.WithSink(exp.LogSink()))).Info("after the crash")
	shutdown(t, exp)
	b, _ := os.ReadFile(filepath.Join(dir, "logs-svc-default.ndjson"))
	ls := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(ls) != 3 || ls[1] != `{"message":"torn` || !strings.Contains(ls[2], "after the crash") {
		t.Errorf("got lines %q, want the torn line on its own and the new document whole", ls)
	}
}

// TestRetentionAtStart: rotated files left by earlier runs beyond
// MaxFiles are removed when the exporter starts, oldest first.
func TestRetentionAtStart(t *testing.T) {
	dir := t.TempDir()
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var names []string
	for i := 0; i < 5; i++ {
		name := "logs-svc-default." + base.Add(time.Duration(i)*time.Minute).Format("20060102T150405.000000000Z") + ".ndjson"
		names = append(names, name)
		if err := os.WriteFile(filepath.Join(dir, name), []byte("{}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	other := "logs-svc-default.notatime.ndjson" // not ours: left alone
	if err := os.WriteFile(filepath.Join(dir, other), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	exp, err := file.New(file.WithDir(dir), file.WithService(log.Service{Name: "svc"}), file.WithMaxFiles(3))
	if err != nil {
		t.Fatal(err)
	}
	shutdown(t, exp)
	got := strings.Join(files(t, dir), " ")
	wantNames := []string{"logs-svc-default.ndjson", other, names[3], names[4], "traces-svc-default.ndjson"}
	sort.Strings(wantNames)
	want := strings.Join(wantNames, " ")
	if got != want {
		t.Errorf("files:\n got %s\nwant %s", got, want)
	}
}

func TestDirectoryFromEnvironment(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "data")
	t.Setenv(file.EnvDir, dir)
	exp, err := file.New(file.WithService(log.Service{Name: "svc"}))
	if err != nil {
		t.Fatal(err)
	}
	shutdown(t, exp)
	if _, err := os.Stat(filepath.Join(dir, "logs-svc-default.ndjson")); err != nil {
		t.Errorf("GLASSBOX_FILE_DIR not used: %v", err)
	}
	other := t.TempDir()
	exp, err = file.New(file.WithDir(other), file.WithService(log.Service{Name: "svc"}))
	if err != nil {
		t.Fatal(err)
	}
	shutdown(t, exp)
	if _, err := os.Stat(filepath.Join(other, "logs-svc-default.ndjson")); err != nil {
		t.Errorf("WithDir must win over GLASSBOX_FILE_DIR: %v", err)
	}
}

func TestNoDirectory(t *testing.T) {
	t.Setenv(file.EnvDir, "")
	if _, err := file.New(); err == nil || !strings.Contains(err.Error(), "GLASSBOX_FILE_DIR") {
		t.Errorf("got %v, want an error naming GLASSBOX_FILE_DIR", err)
	}
	blocker := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := file.New(file.WithDir(filepath.Join(blocker, "sub"))); err == nil {
		t.Error("New with a directory under a regular file: got nil error")
	}
}

// TestHostileNamesStayInDir: the service's dataset and namespace name the
// files, but can never point them outside the directory.
func TestHostileNamesStayInDir(t *testing.T) {
	exp, dir := newExporter(t, file.WithService(log.Service{Name: "svc", Dataset: "../../etc", Namespace: "a/b"}))
	logsPath, _ := exp.Files()
	if filepath.Dir(logsPath) != dir {
		t.Errorf("logs file %s is outside %s", logsPath, dir)
	}
	shutdown(t, exp)
}
