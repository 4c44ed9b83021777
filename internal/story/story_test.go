package story

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// memSource is a Source over documents in memory; it counts queries.
type memSource struct {
	docs    []Doc
	queries []Query
}

func (m *memSource) Describe() string { return "memory" }

func (m *memSource) Search(_ context.Context, q Query, fn func(Doc) bool) error {
	m.queries = append(m.queries, q)
	for _, d := range m.docs {
		if q.matches(d) && !fn(d) {
			return nil
		}
	}
	return nil
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func mustDoc(t *testing.T, key, raw string) Doc {
	t.Helper()
	d, err := newDoc(key, []byte(raw))
	if err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return d
}

// span builds a span document starting at t0+startMS lasting durMS.
func span(t *testing.T, corr, trace, id, parent, svc, name string, startMS, durMS int, failed bool) Doc {
	p := ""
	if parent != "" {
		p = `,"parent.id":"` + parent + `"`
	}
	c := ""
	if corr != "" {
		c = `,"correlation.id":"` + corr + `"`
	}
	out := "success"
	if failed {
		out = "failure"
	}
	return mustDoc(t, "span/"+id, fmt.Sprintf(`{"@timestamp":%q,"processor.event":"span","service.name":%q,"trace.id":%q,"span.id":%q%s,"span.name":%q,"event.duration":%d,"event.outcome":%q%s}`,
		t0.Add(time.Duration(startMS)*time.Millisecond).Format(time.RFC3339Nano), svc, trace, id, p, name, int64(durMS)*int64(time.Millisecond), out, c))
}

func logDoc(t *testing.T, corr, trace, spanID, svc, level, msg string, atMS int, extra string) Doc {
	return mustDoc(t, fmt.Sprintf("log/%s/%d/%s", spanID, atMS, msg), fmt.Sprintf(`{"@timestamp":%q,"log.level":%q,"message":%q,"service.name":%q,"correlation.id":%q,"trace.id":%q,"span.id":%q%s}`,
		t0.Add(time.Duration(atMS)*time.Millisecond).Format(time.RFC3339Nano), level, msg, svc, corr, trace, spanID, extra))
}

const (
	tA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	tB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	tC = "cccccccccccccccccccccccccccccccc"
)

// TestCollectExpands: from a Sentry event ID to its correlation ID, to
// every trace of that ID, to the documents of those traces that carry no
// correlation ID (a service without glassbox), and to the other
// correlation ID one of those traces carries.
func TestCollectExpands(t *testing.T) {
	src := &memSource{docs: []Doc{
		logDoc(t, "req-1", tA, "1111111111111111", "front", "error", "failed", 10, `,"error.id":"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"`),
		span(t, "req-1", tA, "1111111111111111", "", "front", "GET /", 0, 20, true),
		span(t, "req-1", tB, "2222222222222222", "", "front", "job", 30, 5, false),
		span(t, "", tB, "3333333333333333", "2222222222222222", "legacy", "query", 31, 2, false),
		logDoc(t, "req-2", tB, "3333333333333333", "legacy", "info", "other id, same trace", 32, ""),
		logDoc(t, "req-2", tC, "4444444444444444", "legacy", "info", "req-2's own trace", 40, ""),
		logDoc(t, "unrelated", "dddddddddddddddddddddddddddddddd", "5555555555555555", "x", "info", "not ours", 1, ""),
	}}
	res, err := Collect(context.Background(), src, Request{ID: "EEEEEEEE-EEEE-EEEE-EEEE-EEEEEEEEEEEE"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Kind != KindError {
		t.Errorf("kind %q, want error.id", res.Kind)
	}
	if got := strings.Join(res.CorrelationIDs, ","); got != "req-1,req-2" {
		t.Errorf("correlation IDs %s, want req-1,req-2", got)
	}
	if got := strings.Join(res.TraceIDs, ","); got != tA+","+tB+","+tC {
		t.Errorf("traces %s", got)
	}
	if len(res.Docs) != 6 {
		t.Errorf("got %d documents, want 6 (all but the unrelated one)", len(res.Docs))
	}
	// Later rounds ask only for IDs not asked for yet.
	for i, q := range src.queries[1:] {
		for _, id := range q.CorrelationIDs {
			for _, prev := range src.queries[:i+1] {
				if contains(prev.CorrelationIDs, id) {
					t.Errorf("round %d asks again for %s", i+1, id)
				}
			}
		}
	}
}

func TestCollectKindAndLimit(t *testing.T) {
	docs := []Doc{span(t, tA, tA, "1111111111111111", "", "s", "root", 0, 10, false)}
	for i := 0; i < 50; i++ {
		docs = append(docs, logDoc(t, tA, tA, "1111111111111111", "s", "info", fmt.Sprint("line ", i), i, ""))
	}
	src := &memSource{docs: docs}
	// The default: correlation ID = trace ID; it is named a correlation ID.
	res, err := Collect(context.Background(), src, Request{ID: tA, Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	if res.Kind != KindCorrelation || !res.Truncated || len(res.Docs) != 20 {
		t.Errorf("kind %q truncated %v docs %d; want correlation.id, true, 20", res.Kind, res.Truncated, len(res.Docs))
	}
	res, _ = Collect(context.Background(), src, Request{ID: "nothing-here"})
	if res.Kind != "" || len(res.Docs) != 0 {
		t.Errorf("unknown ID: kind %q, %d docs", res.Kind, len(res.Docs))
	}
}

func TestIDTerms(t *testing.T) {
	for _, tt := range []struct{ in, hex string }{
		{"4BF92F3577B34DA6A3CE929D0E0E4736", "4bf92f3577b34da6a3ce929d0e0e4736"},
		{"4bf92f35-77b3-4da6-a3ce-929d0e0e4736", "4bf92f3577b34da6a3ce929d0e0e4736"},
		{"order-7731", ""},
		{"4bf92f3577b34da6a3ce929d0e0e473z", ""},
	} {
		corr, hex := idTerms(tt.in)
		if corr[0] != tt.in || strings.Join(hex, "") != tt.hex {
			t.Errorf("idTerms(%q) = %v %v, want hex %q", tt.in, corr, hex, tt.hex)
		}
	}
}

// TestCriticalPathAndSelfTime: of two children running in parallel, the
// one that ended last is critical; a sequential child before it is too;
// self time subtracts the union of the children's intervals.
func TestCriticalPathAndSelfTime(t *testing.T) {
	res := &Result{Docs: []Doc{
		span(t, "r", tA, "0000000000000001", "", "api", "root", 0, 100, false),
		span(t, "r", tA, "0000000000000002", "0000000000000001", "api", "auth", 5, 10, false),     // sequential, before the parallel pair
		span(t, "r", tA, "0000000000000003", "0000000000000001", "db", "fast", 20, 30, false),     // parallel with slow, ends first
		span(t, "r", tA, "0000000000000004", "0000000000000001", "cache", "slow", 20, 60, false),  // ends last
		span(t, "r", tA, "0000000000000005", "0000000000000004", "cache", "inner", 25, 10, false), // inside slow
	}}
	s := Build(res)
	crit := map[string]bool{}
	self := map[string]time.Duration{}
	for _, sp := range s.Spans {
		crit[sp.Name] = sp.Critical
		self[sp.Name] = sp.Self
	}
	want := map[string]bool{"root": true, "auth": true, "fast": false, "slow": true, "inner": true}
	for n, w := range want {
		if crit[n] != w {
			t.Errorf("%s critical = %v, want %v", n, crit[n], w)
		}
	}
	// root: 100 - (auth 10 + union(fast 20..50, slow 20..80) 60) = 30.
	if self["root"] != 30*time.Millisecond || self["slow"] != 50*time.Millisecond || self["inner"] != 10*time.Millisecond {
		t.Errorf("self times %v", self)
	}
	var cache time.Duration
	for _, sv := range s.Services {
		if sv.Name == "cache" {
			cache = sv.Self
		}
	}
	if cache != 60*time.Millisecond {
		t.Errorf("cache self time %v, want 60ms", cache)
	}
}

// TestBuildOddData: nested ECS objects, a parent that was not exported, a
// parent cycle, a span exported twice, a log line without a span: every
// document is shown once and nothing hangs.
func TestBuildOddData(t *testing.T) {
	nested := mustDoc(t, "n", `{"@timestamp":"2026-01-02T03:04:05.010Z","log":{"level":"error"},"message":"nested","service":{"name":"old"},"trace":{"id":"`+tA+`"},"span":{"id":"0000000000000001"},"correlation":{"id":"r"}}`)
	res := &Result{Docs: []Doc{
		span(t, "r", tA, "0000000000000001", "", "api", "root", 0, 50, false),
		span(t, "r", tA, "0000000000000001", "", "api", "root", 0, 50, false), // exported twice
		span(t, "r", tA, "0000000000000009", "00000000000000ff", "api", "orphan span", 10, 5, false),
		span(t, "r", tA, "000000000000000a", "000000000000000b", "api", "cycle a", 20, 5, false),
		span(t, "r", tA, "000000000000000b", "000000000000000a", "api", "cycle b", 21, 5, false),
		nested,
		logDoc(t, "r", "", "", "api", "info", "no span", 60, ""),
	}}
	s := Build(res)
	if len(s.Spans) != 4 {
		t.Errorf("%d spans, want 4 (the duplicate once)", len(s.Spans))
	}
	rows := s.Rows()
	if len(rows) != 4 {
		t.Errorf("%d rows, want every span shown once (the cycle broken)", len(rows))
	}
	var missing int
	for _, r := range rows {
		if r.MissingParent {
			missing++
		}
	}
	if missing != 2 {
		t.Errorf("%d spans flagged with a missing parent, want 2 (the orphan and one of the cycle)", missing)
	}
	if len(s.Orphans) != 1 || s.Orphans[0].Message != "no span" {
		t.Errorf("orphans %v", s.Orphans)
	}
	if s.FirstError == nil || s.FirstError.Message != "nested" || s.FirstError.Service != "old" || s.FirstError.Span == nil {
		t.Errorf("the nested ECS document was not read: %+v", s.FirstError)
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0", 850 * time.Nanosecond: "850ns", 850 * time.Microsecond: "850µs", 1234 * time.Microsecond: "1.23ms",
		12345 * time.Microsecond: "12.3ms", 123456 * time.Microsecond: "123ms", 1234 * time.Millisecond: "1.23s",
		12345 * time.Millisecond: "12.3s", 125 * time.Second: "2m05s", 3725 * time.Second: "1h02m",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestDiscoverURL(t *testing.T) {
	u := DiscoverURL("https://kibana.example:5601/", "order-1", t0, t0.Add(time.Second))
	want := "https://kibana.example:5601/app/discover#/?_g=(time:(from:'2026-01-02T03:03:05Z',to:'2026-01-02T03:05:06Z'))&_a=(query:(language:kuery,query:'correlation.id:%22order-1%22'))"
	if u != want {
		t.Errorf("got  %s\nwant %s", u, want)
	}
	if DiscoverURL("", "order-1", t0, t0) != "" || DiscoverURL("https://k", "bad id'", t0, t0) != "" {
		t.Error("a link without a base URL or for an invalid ID")
	}
}

// TestLongLines: a document longer than the read buffer is read whole.
func TestLongLines(t *testing.T) {
	long := `{"message":"` + strings.Repeat("x", 600<<10) + `"}`
	var got []int
	err := eachLine(strings.NewReader("{}\n"+long+"\n\n{}"), func(n int, line []byte) bool {
		got = append(got, len(line))
		return true
	})
	if err != nil || len(got) != 4 || got[1] != len(long) || got[3] != 2 {
		t.Errorf("lines %v (%v), want 4 with the long one whole", got, err)
	}
}
