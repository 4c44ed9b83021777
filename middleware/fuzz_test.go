package middleware_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/internal/testutil"
	"github.com/glassbox-obs/glassbox/internal/w3ctest"
	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/trace"
)

// validID is the correlation ID contract (DESIGN.md), written out here
// rather than taken from trace.ValidCorrelationID: 1 to 128 characters of
// [A-Za-z0-9._:-].
var validID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// tracestateMember is one list member of the current W3C tracestate
// grammar, key and value at most 256 characters.
var tracestateMember = regexp.MustCompile(`^[a-z0-9][a-z0-9_*/@-]{0,255}=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$`)

// hop is what one service of FuzzHTTPInbound saw: the values in its
// handler's context, its answer, and the headers of the call it made.
type hop struct {
	f        *fixture
	corrID   string
	baggage  baggage.Baggage
	response http.Header
	out      http.Header
}

// serveHop runs one request with the given headers through the HTTP
// middleware to a handler that reads the context and calls the next
// service through the client Transport; next answers that call (nil: a
// plain 200).
func serveHop(t *testing.T, in http.Header, next func(http.Header) *http.Response) *hop {
	h := &hop{f: newFixture(t)}
	client := &http.Client{Transport: middleware.Transport(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		h.out = r.Header.Clone()
		if next != nil {
			return next(r.Header), nil
		}
		return &http.Response{StatusCode: 200, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
	}), h.f.opts()...)}
	srv := middleware.HTTP(h.f.opts()...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.corrID, _ = trace.CorrelationID(r.Context())
		h.baggage = baggage.FromContext(r.Context())
		req, _ := http.NewRequestWithContext(r.Context(), "GET", "http://next.example/api", nil)
		if res, err := client.Do(req); err == nil {
			res.Body.Close()
		}
		_, _ = io.WriteString(w, "ok")
	}))
	req := httptest.NewRequest("GET", "/api", nil)
	req.Header = in
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	h.response = rec.Result().Header
	return h
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// FuzzHTTPInbound sends any X-Correlation-ID, X-Request-ID, traceparent,
// tracestate and baggage values through the HTTP middleware of one
// service, whose handler calls a second service through the client
// Transport. Whatever the values:
//   - the correlation ID in the handler's context, on the response and on
//     the outgoing call is the first valid inbound value (by the contract,
//     checked here with its own pattern), else the server span's trace ID;
//     the invalid values before it are counted on the span and the access
//     log, and none of them appears in a log field or span attribute that
//     a request without them does not have;
//   - every log string is valid UTF-8 without control characters;
//   - a valid version-00 traceparent becomes the server span's parent;
//   - the outgoing traceparent is a valid version-00 value of the server
//     span's trace, the outgoing tracestate at most 32 valid members with
//     distinct keys, and the outgoing baggage valid, within 64 members and
//     8192 bytes;
//   - the inbound baggage is taken whole or dropped whole: the handler
//     sees exactly the members of a valid header within the W3C limits,
//     and nothing of any other;
//   - the second service, fed the first one's outgoing headers, sends on
//     the same tracestate, baggage and correlation ID (idempotence).
//
// The seed corpus is in testdata/fuzz/FuzzHTTPInbound.
func FuzzHTTPInbound(f *testing.F) {
	f.Add("req-1", "", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7", "tenant=acme,user=%20x")
	f.Add("bad\r\nvalue", "fallback.id:2", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "a@b=1", "k=v;prop=1")
	f.Add("\x1b[31m", "\u2028", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "bad key=1", "=,,")
	f.Add("", "", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "", strings.Repeat("k=v,", 65))
	f.Fuzz(func(t *testing.T, corr, reqID, tp, ts, bag string) {
		in := http.Header{
			"X-Correlation-Id": {corr},
			"X-Request-Id":     {reqID},
			"Traceparent":      {tp},
			"Tracestate":       {ts},
			"Baggage":          {bag},
		}
		second := (*hop)(nil)
		first := serveHop(t, in, func(out http.Header) *http.Response {
			second = serveHop(t, out.Clone(), nil)
			return &http.Response{StatusCode: 200, Body: http.NoBody, Header: second.response}
		})
		if second == nil {
			t.Fatal("the handler's outgoing call did not reach the second service")
		}
		span := serverSpan(t, first.f)

		// The correlation ID.
		want, rejected := "", 0
		for _, v := range []string{corr, reqID} {
			if validID.MatchString(v) {
				want = v
				break
			}
			rejected++
		}
		if want == "" {
			want = span.SpanContext.TraceID().String()
		}
		if first.corrID != want || first.response.Get("X-Correlation-ID") != want || first.out.Get("X-Correlation-ID") != want {
			t.Fatalf("correlation ID: handler %q, response %q, outgoing %q, want %q",
				trunc(first.corrID), trunc(first.response.Get("X-Correlation-ID")), trunc(first.out.Get("X-Correlation-ID")), trunc(want))
		}
		if second.corrID != want || second.out.Get("X-Correlation-ID") != want {
			t.Fatalf("second service: correlation ID %q, sent on %q, want %q", second.corrID, second.out.Get("X-Correlation-ID"), want)
		}
		if v, _ := attrOf(span.Attributes, "correlation.id_rejected"); v.AsInt64() != int64(rejected) {
			t.Fatalf("correlation.id_rejected on the span: got %d, want %d", v.AsInt64(), rejected)
		}
		access := first.f.record(t, "request completed")
		if got, _ := access["correlation.id_rejected"].(float64); got != float64(rejected) || access["correlation.id"] != want {
			t.Fatalf("access log: correlation.id %v, correlation.id_rejected %v, want %q, %d", access["correlation.id"], got, want, rejected)
		}
		first.f.checkAllClean(t)
		checkNotEchoed(t, first.f, in, corr, reqID)

		// Trace context.
		if m := w3ctest.Traceparent00.FindStringSubmatch(tp); m != nil && m[1] != strings.Repeat("0", 32) && m[2] != strings.Repeat("0", 16) {
			if span.Parent.TraceID().String() != m[1] || span.Parent.SpanID().String() != m[2] || !span.Parent.IsRemote() {
				t.Fatalf("traceparent %q: server span parent %v, want it", tp, span.Parent)
			}
		}
		m := w3ctest.Traceparent00.FindStringSubmatch(first.out.Get("Traceparent"))
		if m == nil || m[1] != span.SpanContext.TraceID().String() {
			t.Fatalf("outgoing traceparent %q, want a version-00 value of trace %s", first.out.Get("Traceparent"), span.SpanContext.TraceID())
		}
		checkTracestate(t, first.out.Values("Tracestate"))
		if a, b := strings.Join(first.out.Values("Tracestate"), ","), strings.Join(second.out.Values("Tracestate"), ","); a != b {
			t.Fatalf("tracestate not stable over a hop: %q, then %q", a, b)
		}

		// Baggage.
		wantBag := w3ctest.ExpectedBaggage(bag)
		if !w3ctest.SameBaggage(first.baggage, wantBag) {
			t.Fatalf("baggage %q: handler saw %q, want %q", trunc(bag), trunc(first.baggage.String()), trunc(wantBag.String()))
		}
		outBag := strings.Join(first.out.Values("Baggage"), ",")
		sent, err := baggage.Parse(outBag)
		if err != nil || len(outBag) > w3ctest.MaxBaggageBytes || sent.Len() > w3ctest.MaxBaggageMembers || !w3ctest.SameBaggage(sent, wantBag) {
			t.Fatalf("outgoing baggage %q: %v, want the members of %q", trunc(outBag), err, trunc(wantBag.String()))
		}
		if !w3ctest.SameBaggage(second.baggage, wantBag) {
			t.Fatalf("second service saw baggage %q, want %q", trunc(second.baggage.String()), trunc(wantBag.String()))
		}
		again, _ := baggage.Parse(strings.Join(second.out.Values("Baggage"), ","))
		if !w3ctest.SameBaggage(again, sent) {
			t.Fatalf("baggage not stable over a hop: %q, then %q", trunc(outBag), trunc(again.String()))
		}
	})
}

// serverSpan returns the fixture's one server span.
func serverSpan(t *testing.T, f *fixture) (s tracetest.SpanStub) {
	t.Helper()
	n := 0
	for _, sp := range f.exp.GetSpans() {
		if sp.SpanKind == oteltrace.SpanKindServer {
			s = sp
			n++
		}
	}
	if n != 1 {
		t.Fatalf("got %d server spans, want 1", n)
	}
	return s
}

// checkNotEchoed fails when an invalid correlation value appears in a log
// field or span attribute of f where the same request without the
// correlation headers has none: it was copied from the request.
func checkNotEchoed(t *testing.T, f *fixture, in http.Header, values ...string) {
	t.Helper()
	var hostile []string
	for _, v := range values {
		if v != "" && !validID.MatchString(v) {
			hostile = append(hostile, v)
		}
	}
	if len(hostile) == 0 {
		return
	}
	plain := in.Clone()
	delete(plain, "X-Correlation-Id")
	delete(plain, "X-Request-Id")
	control := serveHop(t, plain, nil)
	var before []string
	collectStrings(t, control.f, func(_, s string) { before = append(before, s) })
	collectStrings(t, f, func(where, s string) {
		for _, v := range hostile {
			if !strings.Contains(s, v) {
				continue
			}
			found := false
			for _, b := range before {
				found = found || strings.Contains(b, v)
			}
			if !found {
				t.Fatalf("the invalid correlation value %q appears in %s: %q", trunc(v), where, trunc(s))
			}
		}
	})
}

// collectStrings calls fn with every string of every log record and span
// attribute of f.
func collectStrings(t *testing.T, f *fixture, fn func(where, s string)) {
	t.Helper()
	for _, r := range f.records(t) {
		walk(r, func(k, v string) { fn("log field "+k, v) })
	}
	testutil.EachSpanString(f.exp.GetSpans(), fn)
}

// checkTracestate fails unless the tracestate header lines hold at most 32
// valid list members with distinct keys.
func checkTracestate(t *testing.T, lines []string) {
	t.Helper()
	if len(lines) > 1 {
		t.Fatalf("tracestate sent on %d lines", len(lines))
	}
	if len(lines) == 0 || lines[0] == "" {
		return
	}
	members := strings.Split(lines[0], ",")
	if len(members) > 32 {
		t.Fatalf("tracestate of %d members sent", len(members))
	}
	keys := map[string]bool{}
	for _, m := range members {
		k, _, _ := strings.Cut(m, "=")
		if !tracestateMember.MatchString(m) || keys[k] {
			t.Fatalf("tracestate member %q of %q is invalid or repeated", m, lines[0])
		}
		keys[k] = true
	}
}
