package trace

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	oteltrace "go.opentelemetry.io/otel/trace"
)

// FuzzTraceContext feeds the W3C parsers a traceparent and two tracestate
// header lines. Whatever the input: nothing panics; a valid traceparent
// formats to a version-00 value that parses back to the same IDs; a valid
// tracestate has at most 32 members of valid, distinct keys, and is a
// fixed point (parsing what would be sent gives it back); and a trace
// context that went through Extract and Inject comes out of a second
// round unchanged. The seed corpus is in testdata/fuzz/FuzzTraceContext.
func FuzzTraceContext(f *testing.F) {
	f.Add("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "congo=t61rcWkgMzE", "rojo=00f067aa0ba902b7")
	f.Add(" cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03-future", "foo@=1, ,bar=2", "foo=3")
	f.Fuzz(func(t *testing.T, tp, ts1, ts2 string) {
		if sc, ok := parseTraceparent(tp); ok {
			out := formatTraceparent(oteltrace.NewSpanContext(sc))
			back, ok := parseTraceparent(out)
			if !ok || back.TraceID != sc.TraceID || back.SpanID != sc.SpanID || back.TraceFlags != sc.TraceFlags {
				t.Fatalf("%q formats to %q, which parses back to %+v, %v", tp, out, back, ok)
			}
			if sc.TraceFlags&^knownFlags != 0 {
				t.Fatalf("%q: unknown flags kept: %v", tp, sc.TraceFlags)
			}
		}

		if st, ok := parseTracestate([]string{ts1, ts2}); ok {
			checkTracestate(t, st)
			again, ok := parseTracestate([]string{st.header})
			if !ok || again.header != st.header {
				t.Fatalf("%q + %q gives %q, which parses to %q, %v", ts1, ts2, st.header, again.header, ok)
			}
		}

		in := http.Header{}
		in.Add("traceparent", tp)
		in.Add("tracestate", ts1)
		in.Add("tracestate", ts2)
		var p TraceContext
		ctx := p.Extract(context.Background(), propagation.HeaderCarrier(in))
		first := http.Header{}
		p.Inject(ctx, propagation.HeaderCarrier(first))
		ctx2 := p.Extract(context.Background(), propagation.HeaderCarrier(first))
		second := http.Header{}
		p.Inject(ctx2, propagation.HeaderCarrier(second))
		if strings.Join(first["Traceparent"], "|") != strings.Join(second["Traceparent"], "|") ||
			strings.Join(first["Tracestate"], "|") != strings.Join(second["Tracestate"], "|") {
			t.Fatalf("not stable: first %v, second %v", first, second)
		}
	})
}

func checkTracestate(t *testing.T, st tracestate) {
	t.Helper()
	if st.header == "" {
		if st.ts.Len() != 0 || st.extra != nil {
			t.Fatalf("empty list with members: %+v", st)
		}
		return
	}
	members := strings.Split(st.header, ",")
	if len(members) > maxTracestateMembers {
		t.Fatalf("%d members: %q", len(members), st.header)
	}
	seen := map[string]bool{}
	for _, m := range members {
		k, v, ok := strings.Cut(m, "=")
		if !ok || !validStateKey(k) || !validStateValue(v) || seen[k] {
			t.Fatalf("member %q of %q: invalid or repeated", m, st.header)
		}
		seen[k] = true
	}
	if st.ts.Len()+len(st.extra) != len(members) {
		t.Fatalf("%q: TraceState holds %d, extra %d, want %d in all", st.header, st.ts.Len(), len(st.extra), len(members))
	}
}
