package middleware_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/trace"
)

var hostileValues = map[string]string{
	"1MiB":        strings.Repeat("A", 1<<20),
	"1MiB-bytes":  strings.Repeat("\xff\x00", 1<<19),
	"CRLF":        "abc\r\nX-Injected: yes",
	"NUL":         "abc\x00def",
	"ANSI":        "\x1b[31mred\x1b[0m-and-more-text",
	"U+2028":      "line\u2028separator\u2029para",
	"invalid-utf": "caf\xc3\x28-\xed\xa0\x80-bytes",
	"bidi":        "user\u202egnp.exe-override",
}

func TestHostileCorrelationHeader(t *testing.T) {
	for name, v := range hostileValues {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			var s seen
			h := middleware.HTTP(f.opts(middleware.WithRequestHeaders("X-Custom"))...)(capture(&s))
			req := httptest.NewRequest("GET", "/", nil)
			req.Header["X-Correlation-Id"] = []string{v}
			req.Header["X-Request-Id"] = []string{v}
			req.Header["User-Agent"] = []string{v}
			req.Header["X-Custom"] = []string{v}
			req.Header["X-Forwarded-For"] = []string{v}
			req.Header["Traceparent"] = []string{v}
			req.Header["Baggage"] = []string{v}
			req.URL.Path = "/p/" + v
			req.URL.RawQuery = "q=" + v
			req.Host = v
			req.Method = v
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)

			span := f.span(t)
			want := span.SpanContext.TraceID().String()
			if s.corrID != want || rec.Header().Get("X-Correlation-ID") != want {
				t.Errorf("correlation ID: got %q (response %q), want a new one = trace ID %s", trunc(s.corrID), trunc(rec.Header().Get("X-Correlation-ID")), want)
			}
			if span.Parent.IsValid() {
				t.Errorf("span has a parent from a hostile traceparent")
			}
			if s.baggage != "" {
				t.Errorf("baggage: got %q, want none", trunc(s.baggage))
			}
			if v, _ := attrOf(span.Attributes, "correlation.id_rejected"); v.AsInt64() != 2 {
				t.Errorf("correlation.id_rejected span attribute: got %d, want 2", v.AsInt64())
			}
			if got := f.record(t, "request completed")["correlation.id_rejected"]; got != float64(2) {
				t.Errorf("correlation.id_rejected log field: got %v, want 2", got)
			}
			f.checkAllClean(t, v, v[:len(v)/2])
		})
	}
}

func TestHostileDuplicateHeaders(t *testing.T) {
	f := newFixture(t)
	var s seen
	h := middleware.HTTP(f.opts(middleware.WithRequestHeaders("X-Custom"))...)(capture(&s))
	req := httptest.NewRequest("GET", "/", nil)
	for i := range 100 {
		req.Header.Add("X-Correlation-ID", "bad\r\nvalue"+strconv.Itoa(i))
		req.Header.Add("X-Custom", "v\x1b"+strconv.Itoa(i))
		req.Header.Add("User-Agent", "ua\u2028"+strconv.Itoa(i))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	span := f.span(t)
	if want := span.SpanContext.TraceID().String(); s.corrID != want {
		t.Errorf("correlation ID: got %q, want the trace ID %s", s.corrID, want)
	}
	if v, _ := attrOf(span.Attributes, "correlation.id_rejected"); v.AsInt64() != 100 {
		t.Errorf("correlation.id_rejected: got %d, want 100", v.AsInt64())
	}
	if v, _ := attrOf(span.Attributes, "http.request.header.x-custom"); len(v.AsStringSlice()) > 8 {
		t.Errorf("captured %d values of a repeated header, want at most 8", len(v.AsStringSlice()))
	}
	f.checkAllClean(t)

	// A valid value after 99 invalid ones is still found.
	f2 := newFixture(t)
	var s2 seen
	h2 := middleware.HTTP(f2.opts()...)(capture(&s2))
	req2 := httptest.NewRequest("GET", "/", nil)
	for range 99 {
		req2.Header.Add("X-Correlation-ID", "bad value")
	}
	req2.Header.Add("X-Correlation-ID", "good-one")
	h2.ServeHTTP(httptest.NewRecorder(), req2)
	if s2.corrID != "good-one" {
		t.Errorf("got %q, want good-one", s2.corrID)
	}
}

func TestMalformedTraceparentStartsNewTrace(t *testing.T) {
	const tid, sid = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	tests := map[string]string{
		"zero trace id":       "00-00000000000000000000000000000000-" + sid + "-01",
		"zero span id":        "00-" + tid + "-0000000000000000-01",
		"version ff":          "ff-" + tid + "-" + sid + "-01",
		"uppercase trace id":  "00-4BF92F3577B34DA6A3CE929D0E0E4736-" + sid + "-01",
		"uppercase span id":   "00-" + tid + "-00F067AA0BA902B7-01",
		"short trace id":      "00-" + tid[:30] + "-" + sid + "-01",
		"long span id":        "00-" + tid + "-" + sid + "00-01",
		"short flags":         "00-" + tid + "-" + sid + "-1",
		"extra field v00":     "00-" + tid + "-" + sid + "-01-extra",
		"bad version chars":   "0g-" + tid + "-" + sid + "-01",
		"empty":               "",
		"garbage":             "not a traceparent at all",
		"crlf":                "00-" + tid + "-" + sid + "-01\r\n",
		"non-hex trace id":    "00-4bf92f3577b34da6a3ce929d0e0e473z-" + sid + "-01",
		"missing dashes":      "00" + tid + sid + "01",
		"future version long": "cc-" + tid + "-" + sid + "-01x",
	}
	for name, tp := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			var s seen
			h := middleware.HTTP(f.opts()...)(capture(&s))
			req := httptest.NewRequest("GET", "/", nil)
			req.Header["Traceparent"] = []string{tp}
			h.ServeHTTP(httptest.NewRecorder(), req)
			span := f.span(t)
			if span.Parent.IsValid() || span.SpanContext.TraceID().String() == tid {
				t.Errorf("traceparent %q accepted: parent %v, trace %s; want a new trace", tp, span.Parent.SpanID(), span.SpanContext.TraceID())
			}
			f.checkAllClean(t, tp)
		})
	}
	// And the valid forms are accepted (so the test above can fail).
	for name, tp := range map[string]string{
		"v00":             "00-" + tid + "-" + sid + "-01",
		"future version":  "cc-" + tid + "-" + sid + "-01-what-ever",
		"not sampled v00": "00-" + tid + "-" + sid + "-00",
	} {
		t.Run("valid "+name, func(t *testing.T) {
			f := newFixture(t)
			h := middleware.HTTP(f.opts()...)(http.NotFoundHandler())
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("traceparent", tp)
			h.ServeHTTP(httptest.NewRecorder(), req)
			spans := f.exp.GetSpans()
			if name == "not sampled v00" {
				// The SDK's default sampler is parent-based: not recorded.
				if len(spans) != 0 {
					t.Errorf("got %d spans for an unsampled parent, want 0", len(spans))
				}
				return
			}
			if len(spans) != 1 || spans[0].Parent.TraceID().String() != tid {
				t.Errorf("valid traceparent %q not continued", tp)
			}
		})
	}
}

func TestBaggageLimits(t *testing.T) {
	members := func(n int) string {
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("k" + strconv.Itoa(i) + "=v")
		}
		return b.String()
	}
	tests := []struct {
		name string
		bag  string
		keep bool
	}{
		{"64 members", members(64), true},
		{"65 members", members(65), false},
		{"8192 bytes", "k=" + strings.Repeat("v", 8190), true},
		{"8193 bytes", "k=" + strings.Repeat("v", 8191), false},
		{"invalid", "k=v\r\n,x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			var s seen
			h := middleware.HTTP(f.opts()...)(capture(&s))
			req := httptest.NewRequest("GET", "/", nil)
			req.Header["Baggage"] = []string{tt.bag}
			h.ServeHTTP(httptest.NewRecorder(), req)
			if got := s.baggage != ""; got != tt.keep {
				t.Errorf("baggage kept: got %v, want %v (len %d)", got, tt.keep, len(tt.bag))
			}
			if strings.Contains(f.logs.String(), "k1=v") {
				t.Errorf("baggage appears in the logs")
			}
		})
	}
}

func TestSanitize(t *testing.T) {
	tests := []struct {
		in, want string
		max      int
	}{
		{"plain", "plain", 10},
		{"a\r\nb", "a\uFFFD\uFFFDb", 20},
		{"\x1b[31m", "\uFFFD[31m", 20},
		{"x\u2028y", "x\uFFFDy", 20},
		{"bad\xffutf", "bad\uFFFDutf", 20},
		{"0123456789abc", "0123456...", 10},
		{"0123456789", "0123456789", 10},
		{"héllo wörld", "héllo ...", 10}, {"ééééé", "éé...", 8},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := middleware.Sanitize(tt.in, tt.max)
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if len(got) > tt.max {
				t.Errorf("got %d bytes, want at most %d", len(got), tt.max)
			}
		})
	}
	if got := middleware.Sanitize(strings.Repeat("\x00", 1<<20), 1024); len(got) > 1024 {
		t.Errorf("1 MiB of NUL: got %d bytes, want at most 1024", len(got))
	}
	_ = trace.ValidCorrelationID
}
