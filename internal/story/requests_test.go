package story

import (
	"fmt"
	"strings"
	"testing"
)

func docsOf(t *testing.T, raws ...string) *Result {
	t.Helper()
	res := &Result{Kind: KindError}
	for i, raw := range raws {
		d, err := newDoc(fmt.Sprint(i), []byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		res.Docs = append(res.Docs, d)
	}
	return res
}

const (
	t1 = "11111111111111111111111111111111"
	t2 = "22222222222222222222222222222222"
)

func mkSpan(trace, id, parent, corr, at string) string {
	return fmt.Sprintf(`{"@timestamp":"2026-01-02T03:04:%sZ","processor.event":"span","trace.id":%q,"span.id":%q,"parent.id":%q,"correlation.id":%q,"span.name":"op","event.duration":1000}`, at, trace, id, parent, corr)
}

func mkLog(trace, spanID, corr, at string) string {
	return fmt.Sprintf(`{"@timestamp":"2026-01-02T03:04:%sZ","log.level":"error","message":"m%s","trace.id":%q,"span.id":%q,"correlation.id":%q}`, at, at, trace, spanID, corr)
}

// A trace stays whole in the request of its earliest span, even when a
// later span of it carries another correlation ID: one request.
func TestRequestsKeepTracesWhole(t *testing.T) {
	s := Build(docsOf(t,
		mkSpan(t1, "a1", "", "A", "05"),
		mkSpan(t1, "a2", "a1", "B", "06"),
		mkLog(t1, "a2", "B", "07"),
	))
	if len(s.Requests) != 0 || s.RequestsNote() != "" || s.sole != "A" {
		t.Errorf("got %d requests (%q), sole %q; want one request, A", len(s.Requests), s.RequestsNote(), s.sole)
	}
}

// Documents of several requests: one story per correlation ID, oldest
// first, each holding only its own documents; lines with no correlation
// ID and no trace found make a request of their own.
func TestRequestsSplit(t *testing.T) {
	s := Build(docsOf(t,
		mkSpan(t2, "b1", "", "B", "20"),
		mkLog(t2, "b1", "B", "21"),
		mkLog("", "", "", "30"),
		mkSpan(t1, "a1", "", "A", "05"),
		mkLog(t1, "a1", "A", "06"),
		mkLog("", "", "A", "08"), // outside any trace: its own correlation ID
	))
	if len(s.Requests) != 3 {
		t.Fatalf("got %d requests, want 3", len(s.Requests))
	}
	var got []string
	for _, r := range s.Requests {
		var msgs []string
		for _, l := range r.Logs {
			msgs = append(msgs, l.Message)
		}
		got = append(got, fmt.Sprintf("%v %d spans %v", r.CorrelationIDs, len(r.Spans), msgs))
	}
	want := []string{"[A] 1 spans [m06 m08]", "[B] 1 spans [m21]", "[] 0 spans [m30]"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
	if !strings.HasPrefix(s.RequestsNote(), "this Sentry event stands for 3 requests") {
		t.Errorf("note %q", s.RequestsNote())
	}
	if i := s.RequestOf(s.FirstError); i != 0 {
		t.Errorf("the first error is in request %d, want 0", i)
	}
}
