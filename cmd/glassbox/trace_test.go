package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glassbox-obs/glassbox/internal/story"
)

// runCLI runs glassbox with args in an environment of vars only (nothing
// from the real one) and returns the exit code, stdout and stderr.
func runCLI(t *testing.T, vars map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &env{
		stdin:  strings.NewReader(stdin),
		stdout: &out,
		stderr: &errb,
		getenv: func(k string) string { return vars[k] },
	})
	return code, out.String(), errb.String()
}

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

var noColor = map[string]string{"NO_COLOR": "1"}

// TestTraceGolden renders the recorded three-service failure at fixed
// widths, without colour, and compares it with the reviewed output.
func TestTraceGolden(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		args []string
	}{
		{"wide.txt", noColor, []string{"--width", "120"}},
		{"default.txt", noColor, nil},
		{"narrow.txt", noColor, []string{"--width", "60"}},
		{"columns72.txt", map[string]string{"NO_COLOR": "1", "COLUMNS": "72"}, nil},
		{"kibana.txt", map[string]string{"NO_COLOR": "1", "GLASSBOX_KIBANA_URL": "https://kibana.example:5601/"}, []string{"--width", "100"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"trace", "--dir", datasetDir}, tt.args...)
			code, out, errs := runCLI(t, tt.vars, "", append(args, failedID)...)
			if code != exitOK || errs != "" {
				t.Fatalf("exit %d, stderr %q; want 0 and nothing", code, errs)
			}
			golden(t, tt.name, out)
		})
	}
}

// TestTraceNarrowFits: no line is wider than asked, except a URL, which
// is never cut.
func TestTraceNarrowFits(t *testing.T) {
	for _, w := range []string{"40", "60", "80", "100"} {
		_, out, _ := runCLI(t, map[string]string{"GLASSBOX_KIBANA_URL": "https://kibana.example"}, "", "trace", "--dir", datasetDir, "--width", w, failedID)
		n := 0
		for _, c := range w {
			n = n*10 + int(c-'0')
		}
		for _, line := range strings.Split(out, "\n") {
			if width := len([]rune(line)); width > n && !strings.Contains(line, "https://") {
				t.Errorf("--width %s: line of %d columns: %q", w, width, line)
			}
		}
	}
}

// datasetIDs returns a trace ID and a Sentry event ID of the failed
// request, read from the dataset.
func datasetIDs(t *testing.T) (traceID, errorID string) {
	t.Helper()
	for _, d := range datasetDocs(t) {
		if d["correlation.id"] != failedID {
			continue
		}
		if traceID == "" && d["processor.event"] == "span" && d["parent.id"] == nil {
			traceID, _ = d["trace.id"].(string)
		}
		if id, ok := d["error.id"].(string); ok && errorID == "" && d["service.name"] == "ledger" {
			errorID = id
		}
	}
	if traceID == "" || errorID == "" {
		t.Fatalf("dataset has no trace ID (%q) or error.id (%q) for %s", traceID, errorID, failedID)
	}
	return traceID, errorID
}

func datasetDocs(t *testing.T) []map[string]any {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(datasetDir, "*.ndjson"))
	var docs []map[string]any
	for _, n := range names {
		f, err := os.Open(n)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Fatalf("%s: %v", n, err)
			}
			docs = append(docs, m)
		}
		f.Close()
	}
	return docs
}

// TestTraceSameStoryFromEveryID: the trace ID and a Sentry event ID of the
// request lead to the same story as its correlation ID.
func TestTraceSameStoryFromEveryID(t *testing.T) {
	traceID, errorID := datasetIDs(t)
	_, want, _ := runCLI(t, noColor, "", "trace", "--dir", datasetDir, failedID)
	for _, tt := range []struct{ id, kind string }{
		{traceID, "(trace ID)"},
		{strings.ToUpper(traceID), "(trace ID)"},
		{errorID, "(Sentry event ID)"},
		{errorID[:8] + "-" + errorID[8:12] + "-" + errorID[12:16] + "-" + errorID[16:20] + "-" + errorID[20:], "(Sentry event ID)"},
	} {
		code, got, errs := runCLI(t, noColor, "", "trace", "--dir", datasetDir, tt.id)
		if code != exitOK {
			t.Fatalf("%s: exit %d: %s", tt.id, code, errs)
		}
		first, _, _ := strings.Cut(got, "\n")
		if !strings.HasSuffix(first, tt.kind) {
			t.Errorf("%s: header %q, want it named a %s", tt.id, first, tt.kind)
		}
		if !strings.Contains(got, "correlation "+strings.Repeat(" ", 0)) && !strings.Contains(got, failedID) {
			t.Errorf("%s: the story does not name the correlation ID %s", tt.id, failedID)
		}
		if a, b := got[strings.Index(got, "WATERFALL"):], want[strings.Index(want, "WATERFALL"):]; a != b {
			t.Errorf("%s: the story differs from the correlation ID's:\n%s\n---\n%s", tt.id, a, b)
		}
	}
}

// TestTraceJSON: --json writes one document on a clean stdout, nothing on
// stderr; every document of the request is in it once, the tree holds
// every span once and every log line once, and nothing of another request.
func TestTraceJSON(t *testing.T) {
	code, out, errs := runCLI(t, nil, "", "trace", failedID, "--dir", datasetDir, "--json")
	if code != exitOK || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	var j story.JSON
	if err := dec.Decode(&j); err != nil {
		t.Fatalf("stdout is not the JSON document: %v\n%s", err, out)
	}
	if dec.More() {
		t.Error("stdout holds more than one JSON value")
	}
	if j.ID != failedID || j.Kind != story.KindCorrelation || len(j.CorrelationIDs) != 1 || len(j.TraceIDs) != 2 {
		t.Errorf("id %q kind %q correlation %v traces %v; want %s, correlation.id, one correlation ID, two traces", j.ID, j.Kind, j.CorrelationIDs, j.TraceIDs, failedID)
	}
	// The reference: every document of the dataset with the correlation ID
	// or one of its traces.
	traces := map[string]bool{}
	for _, id := range j.TraceIDs {
		traces[id] = true
	}
	wantSpans, wantLogs := 0, 0
	for _, d := range datasetDocs(t) {
		tid, _ := d["trace.id"].(string)
		if d["correlation.id"] != failedID && !traces[tid] {
			continue
		}
		if d["processor.event"] == "span" {
			wantSpans++
		} else {
			wantLogs++
		}
	}
	if len(j.Spans) != wantSpans || len(j.Logs) != wantLogs || j.Counts.Spans != wantSpans || j.Counts.Logs != wantLogs {
		t.Errorf("got %d spans %d logs (counts %+v), want %d and %d", len(j.Spans), len(j.Logs), j.Counts, wantSpans, wantLogs)
	}
	for _, raw := range append(append([]json.RawMessage(nil), j.Spans...), j.Logs...) {
		if bytes.Contains(raw, []byte(okID)) {
			t.Errorf("a document of the other request is in the story: %s", raw)
		}
	}
	spanSeen, logSeen := map[int]int{}, map[int]int{}
	var walk func(n story.JSONNode)
	walk = func(n story.JSONNode) {
		spanSeen[n.Span]++
		var doc map[string]any
		_ = json.Unmarshal(j.Spans[n.Span], &doc)
		if doc["span.id"] != n.SpanID {
			t.Errorf("node span %d has span.id %q, the document %v", n.Span, n.SpanID, doc["span.id"])
		}
		for _, l := range n.Logs {
			logSeen[l]++
			var ld map[string]any
			_ = json.Unmarshal(j.Logs[l], &ld)
			if ld["span.id"] != n.SpanID {
				t.Errorf("log %d (span.id %v) is under span %s", l, ld["span.id"], n.SpanID)
			}
		}
		for _, c := range n.Children {
			walk(c)
		}
	}
	for _, tr := range j.Tree {
		for _, r := range tr.Roots {
			walk(r)
		}
	}
	for _, l := range j.OrphanLogs {
		logSeen[l]++
	}
	for i := range j.Spans {
		if spanSeen[i] != 1 {
			t.Errorf("span %d appears %d times in the tree, want once", i, spanSeen[i])
		}
	}
	for i := range j.Logs {
		if logSeen[i] != 1 {
			t.Errorf("log %d appears %d times in the tree, want once", i, logSeen[i])
		}
	}
	if j.Counts.FailedSpans == 0 || j.Counts.ErrorLogs == 0 {
		t.Errorf("counts %+v: the failure is not counted", j.Counts)
	}
}

// TestTraceTerminalSafe: hostile bytes in documents (the memo carries an
// ESC sequence that clears the screen) never reach the terminal raw; with
// colour on, the only escapes are glassbox's own colour codes.
func TestTraceTerminalSafe(t *testing.T) {
	for _, color := range []string{"never", "always"} {
		_, out, _ := runCLI(t, nil, "", "trace", "--dir", datasetDir, "--color", color, failedID)
		if strings.Contains(out, "\x1b[2J") {
			t.Errorf("--color %s: the document's escape sequence reached the terminal", color)
		}
		if !strings.Contains(out, "<script>alert('memo')</script>") {
			t.Errorf("--color %s: the memo's text is not shown (as text)", color)
		}
		rest := out
		for {
			i := strings.IndexByte(rest, 0x1b)
			if i < 0 {
				break
			}
			if color == "never" {
				t.Fatalf("--color never: escape in output at %q", rest[i:min(i+10, len(rest))])
			}
			j := i + 2
			for j < len(rest) && (rest[j] >= '0' && rest[j] <= '9' || rest[j] == ';') {
				j++
			}
			if rest[i+1] != '[' || j >= len(rest) || rest[j] != 'm' {
				t.Fatalf("escape that is not a colour code: %q", rest[i:min(i+10, len(rest))])
			}
			rest = rest[j:]
		}
		for _, r := range out {
			if r < 0x20 && r != '\n' && r != 0x1b {
				t.Errorf("--color %s: control character %U in output", color, r)
			}
		}
	}
}

func TestTraceNotFound(t *testing.T) {
	code, out, errs := runCLI(t, nil, "", "trace", "--dir", datasetDir, "order-0000")
	if code != exitNotFound || out != "" {
		t.Fatalf("exit %d, stdout %q; want 1 and nothing", code, out)
	}
	for _, want := range []string{`"order-0000"`, "6 files in " + datasetDir, "the files hold", "documents from", "Check the ID"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	// A window that excludes the request: not found, and the window is named.
	code, _, errs = runCLI(t, nil, "", "trace", "--dir", datasetDir, "--until", "2001-01-01", failedID)
	if code != exitNotFound || !strings.Contains(errs, "to 2001-01-01 00:00:00 UTC") {
		t.Errorf("exit %d, stderr %q; want 1 naming the window", code, errs)
	}
}

// TestTraceStdin: console output piped in tells the same story.
func TestTraceStdin(t *testing.T) {
	var all bytes.Buffer
	names, _ := filepath.Glob(filepath.Join(datasetDir, "*.ndjson"))
	for _, n := range names {
		b, _ := os.ReadFile(n)
		all.Write(b)
		all.WriteString("not json: a line a service printed\n")
	}
	_, want, _ := runCLI(t, noColor, "", "trace", "--dir", datasetDir, failedID)
	code, got, errs := runCLI(t, noColor, all.String(), "trace", "--file", "-", failedID)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if a, b := got[strings.Index(got, "WATERFALL"):], want[strings.Index(want, "WATERFALL"):]; a != b {
		t.Errorf("stdin tells another story:\n%s\n---\n%s", a, b)
	}
}

// TestTraceSourceFromEnv: with no flag, GLASSBOX_FILE_DIR is the source.
func TestTraceSourceFromEnv(t *testing.T) {
	code, out, errs := runCLI(t, map[string]string{"GLASSBOX_FILE_DIR": datasetDir}, "", "trace", failedID)
	if code != exitOK || !strings.Contains(out, "6 files in "+datasetDir) {
		t.Errorf("exit %d, stderr %q; want the story from GLASSBOX_FILE_DIR", code, errs)
	}
}

func TestTraceUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no ID", []string{"trace", "--dir", datasetDir}, "missing the ID"},
		{"two IDs", []string{"trace", "--dir", datasetDir, "a", "b"}, "one ID at a time"},
		{"not an ID", []string{"trace", "--dir", datasetDir, "a b"}, "is not an ID"},
		{"bad since", []string{"trace", "--dir", datasetDir, "--since", "yesterday", failedID}, "--since"},
		{"unknown flag", []string{"trace", "--frobnicate", failedID}, "flag provided but not defined"},
		{"unknown flag after the ID", []string{"trace", failedID, "--frobnicate"}, "flag provided but not defined"},
		{"bad colour", []string{"trace", "--dir", datasetDir, "--color", "pink", failedID}, "--color"},
		{"no source", []string{"trace", failedID}, "no source: pass --dir"},
		{"html and json on stdout", []string{"trace", "--dir", datasetDir, "--json", "--html", "-", failedID}, "--html -"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCLI(t, nil, "", tt.args...)
			if code != exitUsage || out != "" || !strings.Contains(errs, tt.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2, nothing, and %q", code, out, errs, tt.want)
			}
			if !strings.Contains(errs, "glassbox help trace") {
				t.Errorf("stderr %q does not say where the usage is", errs)
			}
		})
	}
}

// TestTraceFileErrors: each way a file source can be unusable gets its own
// message, with what to do, and exit code 2.
func TestTraceFileErrors(t *testing.T) {
	tmp := t.TempDir()
	mk := func(name, content string) string {
		p := filepath.Join(tmp, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	emptyDir := filepath.Join(tmp, "empty")
	_ = os.Mkdir(emptyDir, 0o755)
	mk("zero/logs-a-default.ndjson", "")
	mk("zero/traces-a-default.ndjson", "")
	mk("junk/logs-a-default.ndjson", "panic: runtime error\ngoroutine 1 [running]:\n")
	emptyFile := mk("empty.ndjson", "")
	textFile := mk("text.log", "15:04:05 INFO hello\n15:04:06 WARN world\n")
	tests := []struct {
		name      string
		args      []string
		msg, hint string
	}{
		{"missing dir", []string{"--dir", filepath.Join(tmp, "nope")}, "cannot read directory", "GLASSBOX_FILE_DIR"},
		{"dir without files", []string{"--dir", emptyDir}, "no *.ndjson files in", "GLASSBOX_FILE_DIR"},
		{"dir of empty files", []string{"--dir", filepath.Join(tmp, "zero")}, "are empty: nothing was written there yet", "GLASSBOX_FILE_DIR="},
		{"dir of junk", []string{"--dir", filepath.Join(tmp, "junk")}, "hold no JSON documents", "GLASSBOX_FILE_DIR"},
		{"missing file", []string{"--file", filepath.Join(tmp, "nope.ndjson")}, "cannot read", "no such file"},
		{"empty file", []string{"--file", emptyFile}, "is empty", "GLASSBOX_LOG_FORMAT=json"},
		{"text file", []string{"--file", textFile}, "holds no JSON documents", "GLASSBOX_LOG_FORMAT=json"},
		{"directory as file", []string{"--file", emptyDir}, "cannot read", "is a directory"},
		{"empty stdin", []string{"--file", "-"}, "standard input is empty", "JSON lines"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCLI(t, nil, "", append(append([]string{"trace"}, tt.args...), failedID)...)
			if code != exitUsage || out != "" {
				t.Errorf("exit %d, stdout %q; want 2 and nothing", code, out)
			}
			if !strings.Contains(errs, tt.msg) || !strings.Contains(errs, tt.hint) {
				t.Errorf("stderr %q; want %q and %q", errs, tt.msg, tt.hint)
			}
		})
	}
}

// TestTraceHelp: the help reads like a Go CLI's: usage line, what it does,
// examples, exit status, every flag documented.
func TestTraceHelp(t *testing.T) {
	for _, args := range [][]string{{"help", "trace"}, {"trace", "--help"}, {"trace", failedID, "-h"}} {
		code, out, errs := runCLI(t, nil, "", args...)
		if code != exitOK || errs != "" {
			t.Fatalf("%v: exit %d, stderr %q", args, code, errs)
		}
		for _, want := range []string{"usage: glassbox trace [flags] <id>", "Examples:", "Exit status: 0", "ELASTICSEARCH_URL",
			"GLASSBOX_FILE_DIR", "NO_COLOR", "-dir directory", "-file file", "-since time", "-until time", "-limit n", "-json", "-html file", "-width columns", "-color", "-index pattern"} {
			if !strings.Contains(out, want) {
				t.Errorf("%v: help lacks %q", args, want)
			}
		}
	}
	_, out, _ := runCLI(t, nil, "", "help")
	if !strings.Contains(out, "trace") || !strings.Contains(out, "show the story of one request") {
		t.Errorf("glassbox help does not list trace:\n%s", out)
	}
}
