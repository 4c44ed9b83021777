package grpcmw_test

import (
	"context"
	"net"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	"github.com/glassbox-obs/glassbox/internal/testutil"
	"github.com/glassbox-obs/glassbox/internal/w3ctest"
	"github.com/glassbox-obs/glassbox/middleware/grpcmw"
	"github.com/glassbox-obs/glassbox/trace"
)

// validID is the correlation ID contract (DESIGN.md) as its own pattern:
// 1 to 128 characters of [A-Za-z0-9._:-].
var validID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// headerStream is the ServerTransportStream of a call made directly on the
// interceptor: it keeps the header metadata the server sets.
type headerStream struct{ header metadata.MD }

func (*headerStream) Method() string { return "/test.Echo/Unary" }
func (s *headerStream) SetHeader(md metadata.MD) error {
	s.header = metadata.Join(s.header, md)
	return nil
}
func (s *headerStream) SendHeader(md metadata.MD) error { return s.SetHeader(md) }
func (*headerStream) SetTrailer(metadata.MD) error      { return nil }

// call is what one unary call through the server interceptor saw.
type call struct {
	tel     *telemetry
	exp     *tracetest.InMemoryExporter
	corrID  string
	baggage baggage.Baggage
	header  metadata.MD // sent back to the caller
	out     metadata.MD // of the call the handler made
}

// serveCall runs a unary call with incoming metadata md, from a TCP peer,
// through the server interceptor to a handler that calls on through the
// client interceptor (its invoker keeps the outgoing metadata).
func serveCall(t *testing.T, md metadata.MD) *call {
	c := &call{exp: tracetest.NewInMemoryExporter()}
	c.tel = newTelemetry(t, c.exp, "srv")
	server := grpcmw.UnaryServerInterceptor(c.tel.opts()...)
	client := grpcmw.UnaryClientInterceptor(c.tel.opts()...)
	stream := &headerStream{}
	ctx := peer.NewContext(context.Background(), &peer.Peer{
		Addr:      &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 41234},
		LocalAddr: &net.TCPAddr{IP: net.IPv4(10, 1, 2, 4), Port: 8443},
	})
	ctx = metadata.NewIncomingContext(ctx, md)
	ctx = grpc.NewContextWithServerTransportStream(ctx, stream)
	_, err := server(ctx, "req", &grpc.UnaryServerInfo{FullMethod: "/test.Echo/Unary"}, func(ctx context.Context, req any) (any, error) {
		c.corrID, _ = trace.CorrelationID(ctx)
		c.baggage = baggage.FromContext(ctx)
		return nil, client(ctx, "/test.Next/Call", req, nil, nil, func(ctx context.Context, _ string, _, _ any, _ *grpc.ClientConn, _ ...grpc.CallOption) error {
			c.out, _ = metadata.FromOutgoingContext(ctx)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	c.header = stream.header
	return c
}

// FuzzMetadataInbound is FuzzHTTPInbound (package middleware) for gRPC:
// any x-correlation-id, x-request-id, traceparent, tracestate and baggage
// metadata values, fed to the server interceptor as a non-Go client's
// frames would arrive (grpc-go's own transports refuse some of them),
// with a handler that calls on through the client interceptor. Whatever
// the values:
//   - the correlation ID is the first valid inbound value (by the
//     contract's own pattern), else the server span's trace ID; the
//     server sends it back in the header metadata exactly when it chose
//     it, and on the outgoing call always;
//   - the invalid values are counted in the access log, and none of them
//     appears in a log field or span attribute where the same call without
//     them has none; every log string is valid UTF-8 without control
//     characters;
//   - a valid version-00 traceparent is the server span's parent, and the
//     outgoing traceparent is a valid version-00 value of its trace;
//   - the inbound baggage is taken whole (a valid one within 64 members
//     and 8192 bytes) or dropped whole, and sent on as it was taken.
//
// The seed corpus is in testdata/fuzz/FuzzMetadataInbound.
func FuzzMetadataInbound(f *testing.F) {
	f.Add("req-1", "", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "congo=t61rcWkgMzE", "tenant=acme")
	f.Add("bad\r\nvalue", "fallback.id:2", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "a@b=1", "k=v;p")
	f.Add("\x00", "\xff\xfe", "junk", "=", "=,,")
	f.Fuzz(func(t *testing.T, corr, reqID, tp, ts, bag string) {
		md := metadata.Pairs("x-correlation-id", corr, "x-request-id", reqID, "traceparent", tp, "tracestate", ts, "baggage", bag)
		c := serveCall(t, md)
		spans := c.exp.GetSpans()
		var span tracetest.SpanStub
		for _, s := range spans {
			if s.SpanKind.String() == "server" {
				span = s
			}
		}
		if !span.SpanContext.IsValid() {
			t.Fatalf("no server span among %d", len(spans))
		}

		want, rejected := "", 0
		for _, v := range []string{corr, reqID} {
			if validID.MatchString(v) {
				want = v
				break
			}
			rejected++
		}
		chosen := want == ""
		if chosen {
			want = span.SpanContext.TraceID().String()
		}
		if c.corrID != want {
			t.Fatalf("correlation ID: got %q, want %q", c.corrID, want)
		}
		if got := c.header.Get("x-correlation-id"); chosen && (len(got) != 1 || got[0] != want) || !chosen && len(got) != 0 {
			t.Fatalf("header metadata x-correlation-id %q; want %q only when the server chose it (chose: %v)", got, want, chosen)
		}
		if got := c.out.Get("x-correlation-id"); len(got) != 1 || got[0] != want {
			t.Fatalf("outgoing x-correlation-id %q, want %q", got, want)
		}
		acc := recordsWith(t, c.tel.logs, "request completed")
		if len(acc) != 1 {
			t.Fatalf("got %d access records, want 1", len(acc))
		}
		if got, _ := acc[0]["correlation.id_rejected"].(float64); got != float64(rejected) || acc[0]["correlation.id"] != want {
			t.Fatalf("access log: correlation.id %v, correlation.id_rejected %v, want %q, %d", acc[0]["correlation.id"], got, want, rejected)
		}

		var hostile []string
		for _, v := range []string{corr, reqID} {
			if v != "" && !validID.MatchString(v) {
				hostile = append(hostile, v)
			}
		}
		var before []string
		if len(hostile) > 0 {
			control := serveCall(t, metadata.Pairs("traceparent", tp, "tracestate", ts, "baggage", bag))
			eachString(t, control, func(_, s string) { before = append(before, s) })
		}
		eachString(t, c, func(where, s string) {
			if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool {
				return r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f || r == 0x2028 || r == 0x2029
			}) {
				t.Fatalf("%s holds an unsafe value %q", where, s)
			}
			for _, v := range hostile {
				if !strings.Contains(s, v) {
					continue
				}
				found := false
				for _, b := range before {
					found = found || strings.Contains(b, v)
				}
				if !found {
					t.Fatalf("the invalid correlation value %q appears in %s: %q", v, where, s)
				}
			}
		})

		if m := w3ctest.Traceparent00.FindStringSubmatch(tp); m != nil && m[1] != strings.Repeat("0", 32) && m[2] != strings.Repeat("0", 16) {
			if span.Parent.TraceID().String() != m[1] || span.Parent.SpanID().String() != m[2] {
				t.Fatalf("traceparent %q: server span parent %v, want it", tp, span.Parent)
			}
		}
		if got := c.out.Get("traceparent"); len(got) != 1 || w3ctest.Traceparent00.FindStringSubmatch(got[0]) == nil ||
			w3ctest.Traceparent00.FindStringSubmatch(got[0])[1] != span.SpanContext.TraceID().String() {
			t.Fatalf("outgoing traceparent %q, want a version-00 value of trace %s", got, span.SpanContext.TraceID())
		}

		wantBag := w3ctest.ExpectedBaggage(bag)
		if !w3ctest.SameBaggage(c.baggage, wantBag) {
			t.Fatalf("baggage %q: handler saw %q, want %q", bag, c.baggage.String(), wantBag.String())
		}
		sent, err := baggage.Parse(strings.Join(c.out.Get("baggage"), ","))
		if err != nil || !w3ctest.SameBaggage(sent, wantBag) {
			t.Fatalf("outgoing baggage %q (%v), want the members of %q", c.out.Get("baggage"), err, wantBag.String())
		}
	})
}

// eachString calls fn with every string of every log record and span
// attribute of c.
func eachString(t *testing.T, c *call, fn func(where, s string)) {
	t.Helper()
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case string:
			fn("log field "+prefix, v)
		case map[string]any:
			for k, x := range v {
				walk(prefix+"."+k, x)
			}
		case []any:
			for _, x := range v {
				walk(prefix, x)
			}
		}
	}
	for _, r := range records(t, c.tel.logs) {
		walk("", map[string]any(r))
	}
	testutil.EachSpanString(c.exp.GetSpans(), fn)
}
