package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/glassbox-obs/glassbox/internal/story"
)

// repeatedDir holds two requests recorded one after the other that fail
// the same way: the Sentry exporter aggregated the second's events into
// the first's window, so both requests' records carry the same error.id.
const repeatedDir = "testdata/repeated"

// The correlation IDs of the two requests, in the order they were sent.
var repeatedIDs = []string{"order-7741", "order-7742"}

// sharedErrorID returns the error.id ledger's records carry in every
// request of dir, failing when the requests do not share one.
func sharedErrorID(t *testing.T, dir string) string {
	t.Helper()
	ids := map[string]map[string]bool{} // correlation ID -> error IDs
	names, _ := filepath.Glob(filepath.Join(dir, "logs-ledger-*.ndjson"))
	for _, n := range names {
		f, err := os.Open(n)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var d map[string]any
			if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
				t.Fatal(err)
			}
			c, _ := d["correlation.id"].(string)
			if id, ok := d["error.id"].(string); ok {
				if ids[c] == nil {
					ids[c] = map[string]bool{}
				}
				ids[c][id] = true
			}
		}
		f.Close()
	}
	for id := range ids[repeatedIDs[0]] {
		if ids[repeatedIDs[1]][id] {
			return id
		}
	}
	t.Fatalf("the two requests share no error.id: %v", ids)
	return ""
}

// TestRepeatedFailure records, with the real pipeline, two requests that
// fail the same way within the Sentry exporter's aggregation window: the
// second's records carry the first event's ID. glassbox trace of that ID
// says it stands for two requests and tells them one by one, oldest
// first, each with only its own documents; --json carries the grouping.
// With -record it keeps the files as the dataset of the golden test.
func TestRepeatedFailure(t *testing.T) {
	dir := t.TempDir()
	recordCheckout(t, dir, repeatedIDs...)
	if *record {
		keepDataset(t, dir, repeatedDir)
	}
	errID := sharedErrorID(t, dir)

	code, out, errs := runCLI(t, nil, "", "trace", "--json", "--dir", dir, errID)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var j story.JSON
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatal(err)
	}
	if j.Kind != story.KindError || len(j.Requests) != 2 {
		t.Fatalf("kind %s, %d requests; want a Sentry event ID standing for 2", j.Kind, len(j.Requests))
	}
	var seenSpans, seenLogs []int
	for i, r := range j.Requests {
		if r.CorrelationID != repeatedIDs[i] {
			t.Errorf("request %d: %s, want %s (oldest first)", i+1, r.CorrelationID, repeatedIDs[i])
		}
		if r.Counts.FailedSpans == 0 || r.Counts.ErrorLogs == 0 || len(r.TraceIDs) != 2 {
			t.Errorf("request %d: %+v; want its failure, its error lines and its two traces", i+1, r)
		}
		for _, k := range r.Spans {
			if c := corrOf(j.Spans[k]); c != r.CorrelationID {
				t.Errorf("request %s holds a span of %s", r.CorrelationID, c)
			}
		}
		for _, k := range r.Logs {
			if c := corrOf(j.Logs[k]); c != r.CorrelationID {
				t.Errorf("request %s holds a log line of %s", r.CorrelationID, c)
			}
		}
		seenSpans, seenLogs = append(seenSpans, r.Spans...), append(seenLogs, r.Logs...)
	}
	if j.Requests[0].Start.After(j.Requests[1].Start) {
		t.Errorf("requests not oldest first: %v, %v", j.Requests[0].Start, j.Requests[1].Start)
	}
	slices.Sort(seenSpans)
	slices.Sort(seenLogs)
	nSpans, nLogs := len(seenSpans), len(seenLogs)
	if nSpans != len(j.Spans) || nLogs != len(j.Logs) || len(slices.Compact(seenSpans)) != nSpans || len(slices.Compact(seenLogs)) != nLogs {
		t.Errorf("the requests hold %d spans and %d log lines of %d and %d; want each document in exactly one", nSpans, nLogs, len(j.Spans), len(j.Logs))
	}

	_, term, _ := runCLI(t, noColor, "", "trace", "--dir", dir, errID)
	first := strings.Index(term, "REQUEST 1 OF 2  correlation "+repeatedIDs[0])
	second := strings.Index(term, "REQUEST 2 OF 2  correlation "+repeatedIDs[1])
	if !strings.Contains(term, "this Sentry event stands for 2 requests") || first < 0 || second < first {
		t.Errorf("the terminal story does not tell the two requests one by one:\n%s", term)
	}
	// A correlation ID is still one request.
	_, one, _ := runCLI(t, noColor, "", "trace", "--json", "--dir", dir, repeatedIDs[1])
	var j1 story.JSON
	if err := json.Unmarshal([]byte(one), &j1); err != nil || len(j1.Requests) != 1 || j1.Requests[0].CorrelationID != repeatedIDs[1] {
		t.Errorf("trace %s: requests %+v (%v), want that one", repeatedIDs[1], j1.Requests, err)
	}
}

func corrOf(raw json.RawMessage) string {
	var d map[string]any
	_ = json.Unmarshal(raw, &d)
	c, _ := d["correlation.id"].(string)
	return c
}

// TestRepeatedFailureGolden renders the recorded repeated failure, by the
// Sentry event ID the two requests share.
func TestRepeatedFailureGolden(t *testing.T) {
	errID := sharedErrorID(t, repeatedDir)
	for name, width := range map[string]string{"repeated.txt": "100", "repeated-narrow.txt": "50"} {
		code, out, errs := runCLI(t, noColor, "", "trace", "--dir", repeatedDir, "--width", width, errID)
		if code != exitOK || errs != "" {
			t.Fatalf("exit %d, stderr %q", code, errs)
		}
		golden(t, name, out)
		for _, line := range strings.Split(out, "\n") {
			if n := len([]rune(line)); n > 100 || (width == "50" && n > 50) {
				t.Errorf("--width %s: line of %d columns: %q", width, n, line)
			}
		}
	}
}

// TestRepeatedFailurePage: the page says the event stands for two
// requests and shows each in a section of its own, oldest first, with
// every span and log line of the story.
func TestRepeatedFailurePage(t *testing.T) {
	errID := sharedErrorID(t, repeatedDir)
	code, page, errs := runCLI(t, nil, "", "trace", "--dir", repeatedDir, "--html", "-", errID)
	if code != exitOK || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if !strings.Contains(page, `<dd class="requests">this Sentry event stands for 2 requests`) {
		t.Error("the header does not say the event stands for 2 requests")
	}
	first := strings.Index(page, "<h3>Request 1 of 2 · correlation "+repeatedIDs[0]+"</h3>")
	second := strings.Index(page, "<h3>Request 2 of 2 · correlation "+repeatedIDs[1]+"</h3>")
	if first < 0 || second < first || strings.Count(page, `<section class="request">`) != 2 {
		t.Errorf("sections: request 1 at %d, request 2 at %d, %d in all; want two, oldest first", first, second, strings.Count(page, `<section class="request">`))
	}
	if refs := externalRefs(page); len(refs) != 0 {
		t.Errorf("the page fetches from elsewhere: %v", refs)
	}
	_, js, _ := runCLI(t, nil, "", "trace", "--json", "--dir", repeatedDir, errID)
	var j story.JSON
	if err := json.Unmarshal([]byte(js), &j); err != nil {
		t.Fatal(err)
	}
	for i, r := range j.Requests {
		from, to := first, second
		if i == 1 {
			from, to = second, len(page)
		}
		for _, k := range r.Spans {
			var d map[string]any
			_ = json.Unmarshal(j.Spans[k], &d)
			if !strings.Contains(page[from:to], `data-span-id="`+d["span.id"].(string)+`"`) {
				t.Errorf("span %v of %s is not in its request's section", d["span.id"], r.CorrelationID)
			}
		}
	}
}
