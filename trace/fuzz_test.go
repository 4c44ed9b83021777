package trace

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
)

// The W3C grammars, written out here as patterns rather than taken from
// the parsers under test.
var (
	w3cTraceparent = regexp.MustCompile(`^00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-3]$`)
	w3cStateMember = regexp.MustCompile(`^[a-z0-9][a-z0-9_*/@-]{0,255}=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$`)
	w3cCorrID      = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)
)

// FuzzPropagator runs any traceparent, tracestate, baggage and
// correlation headers through the propagator glassbox installs
// (Propagator: its TraceContext, W3C baggage, the correlation headers),
// extracting and injecting twice. Whatever the input, what is sent is
// valid and within the W3C limits, and a second hop sends the same:
//   - traceparent: version 00, lowercase hex, only the sampled and
//     random flags (W3C Trace Context level 2);
//   - tracestate: one line of at most 32 valid members with distinct
//     keys, sent only with a traceparent; a valid list of at most 512
//     characters (what every vendor must pass on) that came with a valid
//     version-00 traceparent goes on unchanged;
//   - baggage: valid, at most 64 members and 8192 bytes;
//   - X-Correlation-ID: absent or a valid correlation ID, the first
//     valid inbound one.
//
// The seed corpus is in testdata/fuzz/FuzzPropagator.
func FuzzPropagator(f *testing.F) {
	f.Add("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7", "k=v;p=1,x=%20y", "req-1", "")
	f.Add("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-extra", "a@b=1,a@b=2", "=,k", "bad id", "fallback")
	f.Add("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", strings.Repeat("k=v,", 40), strings.Repeat("k=v,", 70), "", "")
	p := Propagator()
	f.Fuzz(func(t *testing.T, tp, ts, bag, corr, reqID string) {
		in := http.Header{}
		in.Set("Traceparent", tp)
		in.Set("Tracestate", ts)
		in.Set("Baggage", bag)
		in.Set(HeaderCorrelationID, corr)
		in.Set(HeaderRequestID, reqID)
		first := hop(p, in)
		second := hop(p, first)

		if v := first.Values("Traceparent"); len(v) > 1 || len(v) == 1 && !w3cTraceparent.MatchString(v[0]) {
			t.Fatalf("traceparent %q sent for %q", v, tp)
		}
		st := first.Values("Tracestate")
		if len(st) > 1 || len(st) == 1 && first.Get("Traceparent") == "" {
			t.Fatalf("tracestate %q sent with traceparent %q", st, first.Get("Traceparent"))
		}
		if len(st) == 1 {
			keys := map[string]bool{}
			members := strings.Split(st[0], ",")
			for _, m := range members {
				k, _, _ := strings.Cut(m, "=")
				if !w3cStateMember.MatchString(m) || keys[k] {
					t.Fatalf("tracestate member %q of %q invalid or repeated", m, st[0])
				}
				keys[k] = true
			}
			if len(members) > 32 {
				t.Fatalf("tracestate of %d members sent", len(members))
			}
		}
		if w3cTraceparent.MatchString(tp) && !strings.Contains(tp, "-"+strings.Repeat("0", 32)+"-") &&
			!strings.Contains(tp, "-"+strings.Repeat("0", 16)+"-") && validList(ts) && len(ts) <= 512 && first.Get("Tracestate") != ts {
			t.Fatalf("valid tracestate %q of %d characters sent as %q", ts, len(ts), first.Get("Tracestate"))
		}

		out := strings.Join(first.Values("Baggage"), ",")
		b, err := baggage.Parse(out)
		if err != nil || len(out) > 8192 || b.Len() > 64 {
			t.Fatalf("baggage %q sent (%v) for %q", out, err, bag)
		}

		want := ""
		for _, v := range []string{corr, reqID} {
			if w3cCorrID.MatchString(v) {
				want = v
				break
			}
		}
		if got := first.Get(HeaderCorrelationID); got != want {
			t.Fatalf("X-Correlation-ID %q sent, want %q", got, want)
		}

		for _, h := range []string{"Traceparent", "Tracestate", "Baggage", HeaderCorrelationID} {
			if a, b := strings.Join(first.Values(h), "|"), strings.Join(second.Values(h), "|"); a != b && (h != "Baggage" || !sameBag(a, b)) {
				t.Fatalf("%s not stable over a hop: %q, then %q", h, a, b)
			}
		}
	})
}

// hop extracts the headers in with p and injects what it got into new
// headers, as a service passing the context on does.
func hop(p propagation.TextMapPropagator, in http.Header) http.Header {
	ctx := p.Extract(context.Background(), propagation.HeaderCarrier(in))
	out := http.Header{}
	p.Inject(ctx, propagation.HeaderCarrier(out))
	return out
}

// validList reports whether s is a tracestate list of valid members with
// distinct keys (no empty members, no whitespace around them), at most 32.
func validList(s string) bool {
	if s == "" {
		return false
	}
	keys := map[string]bool{}
	members := strings.Split(s, ",")
	for _, m := range members {
		k, _, _ := strings.Cut(m, "=")
		if !w3cStateMember.MatchString(m) || keys[k] {
			return false
		}
		keys[k] = true
	}
	return len(members) <= 32
}

// sameBag reports whether two baggage headers hold the same members, in
// whatever order.
func sameBag(a, b string) bool {
	x, errX := baggage.Parse(a)
	y, errY := baggage.Parse(b)
	if errX != nil || errY != nil || x.Len() != y.Len() {
		return false
	}
	for _, m := range x.Members() {
		if y.Member(m.Key()).String() != m.String() {
			return false
		}
	}
	return true
}
