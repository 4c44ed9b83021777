package instrument_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/middleware/internal/instrument"
	"github.com/glassbox-obs/glassbox/trace"
)

const (
	remoteTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	traceparent   = "00-" + remoteTraceID + "-00f067aa0ba902b7-01"
)

// hidingCarrier records what Config.Inbound asks it to hide, and hides it.
type hidingCarrier struct {
	propagation.HeaderCarrier
	hidden []string
}

func (c *hidingCarrier) HideCorrelationKeys(keys []string) { c.hidden = keys }

func (c *hidingCarrier) Get(key string) string {
	if v := c.Values(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

func (c *hidingCarrier) Values(key string) []string {
	for _, h := range c.hidden {
		if strings.EqualFold(h, key) {
			return nil
		}
	}
	return c.HeaderCarrier.Values(key)
}

// Config.Inbound is the one trust decision of the HTTP middleware and the
// gRPC interceptors: these cases pin it down on its own, for every kind of
// carrier it accepts.
func TestConfigInbound(t *testing.T) {
	public := []middleware.Option{middleware.WithPublicEndpoint(), middleware.WithTrustedPeers("10.0.0.0/8")}
	tooBig := strings.Repeat("k=v,", 65) + "k=v"
	tests := []struct {
		name        string
		opts        []middleware.Option
		peer        string
		headers     map[string][]string
		mapCarrier  bool // propagation.MapCarrier: Get only, no ValuesGetter
		wantTrusted bool
		wantID      string // in Inbound and in ctx
		wantReject  int
		wantParent  bool // ctx carries the caller's span context
		wantLink    bool
		wantBaggage string
	}{
		{name: "not public: everything honoured", peer: "203.0.113.9:5000",
			headers:     map[string][]string{"Traceparent": {traceparent}, "Baggage": {"user=alice"}, "X-Correlation-Id": {"from-caller"}},
			wantTrusted: true, wantID: "from-caller", wantParent: true, wantBaggage: "user=alice"},
		{name: "public, trusted peer", opts: public, peer: "10.1.2.3:5000",
			headers:     map[string][]string{"Traceparent": {traceparent}, "Baggage": {"user=alice"}, "X-Correlation-Id": {"from-caller"}},
			wantTrusted: true, wantID: "from-caller", wantParent: true, wantBaggage: "user=alice"},
		{name: "public, untrusted peer: link only", opts: public, peer: "203.0.113.9:5000",
			headers:    map[string][]string{"Traceparent": {traceparent}, "Baggage": {"user=alice"}, "X-Correlation-Id": {"from-caller", "bad\nid"}},
			wantReject: 0, wantLink: true},
		{name: "public, untrusted peer, invalid values still counted", opts: public, peer: "203.0.113.9:5000",
			headers:    map[string][]string{"X-Correlation-Id": {"bad\nid", "bad id"}, "X-Request-Id": {"\x1b[0m"}},
			wantReject: 3},
		{name: "public, peer without address is untrusted", opts: public, peer: "bufconn",
			headers: map[string][]string{"X-Correlation-Id": {"from-caller"}}},
		{name: "untrusted without traceparent: no link", opts: public, peer: "203.0.113.9:5000",
			headers: map[string][]string{"Traceparent": {"00-garbage"}}},
		{name: "first valid value wins, invalid ones before it counted", peer: "203.0.113.9:5000",
			headers:     map[string][]string{"X-Correlation-Id": {"bad\rid", "good-1"}, "X-Request-Id": {"good-2"}},
			wantTrusted: true, wantID: "good-1", wantReject: 1},
		{name: "second header used when the first is absent", peer: "203.0.113.9:5000",
			headers:     map[string][]string{"X-Request-Id": {"req-7"}},
			wantTrusted: true, wantID: "req-7"},
		{name: "baggage over the member limit dropped whole", peer: "203.0.113.9:5000",
			headers:     map[string][]string{"Baggage": {tooBig}},
			wantTrusted: true},
		{name: "baggage over the limit in a carrier without Values", peer: "203.0.113.9:5000", mapCarrier: true,
			headers:     map[string][]string{"baggage": {tooBig}, "X-Correlation-Id": {"map-id"}},
			wantTrusted: true, wantID: "map-id"},
		{name: "baggage in a carrier without Values", peer: "203.0.113.9:5000", mapCarrier: true,
			headers:     map[string][]string{"baggage": {"user=bob"}, "traceparent": {traceparent}},
			wantTrusted: true, wantParent: true, wantBaggage: "user=bob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := instrument.New(tt.opts)
			var carrier propagation.TextMapCarrier
			if tt.mapCarrier {
				m := propagation.MapCarrier{}
				for k, v := range tt.headers {
					m[k] = v[0]
				}
				carrier = m
			} else {
				carrier = propagation.HeaderCarrier(http.Header(tt.headers))
			}
			ctx, in := c.Inbound(context.Background(), carrier, tt.peer)
			if in.Trusted != tt.wantTrusted {
				t.Errorf("Trusted: got %v, want %v", in.Trusted, tt.wantTrusted)
			}
			if in.CorrelationID != tt.wantID {
				t.Errorf("CorrelationID: got %q, want %q", in.CorrelationID, tt.wantID)
			}
			if id, _ := trace.CorrelationID(ctx); id != tt.wantID {
				t.Errorf("correlation ID in ctx: got %q, want %q", id, tt.wantID)
			}
			if in.Rejected != tt.wantReject {
				t.Errorf("Rejected: got %d, want %d", in.Rejected, tt.wantReject)
			}
			if got := oteltrace.SpanContextFromContext(ctx).TraceID().String() == remoteTraceID; got != tt.wantParent {
				t.Errorf("caller's trace in ctx: got %v, want %v", got, tt.wantParent)
			}
			if got := in.Link.TraceID().String() == remoteTraceID; got != tt.wantLink {
				t.Errorf("link to the caller's trace: got %v (%v), want %v", got, in.Link.TraceID(), tt.wantLink)
			}
			if !tt.wantLink && in.Link.IsValid() {
				t.Errorf("Link: got %v, want none", in.Link)
			}
			if got := baggage.FromContext(ctx).String(); got != tt.wantBaggage {
				t.Errorf("baggage: got %q, want %q", got, tt.wantBaggage)
			}
			opts := in.AppendSpanOptions(nil)
			cfg := oteltrace.NewSpanStartConfig(opts...)
			if cfg.NewRoot() == tt.wantTrusted {
				t.Errorf("new root span: got %v, want %v", cfg.NewRoot(), !tt.wantTrusted)
			}
			if got := len(cfg.Links()); got != map[bool]int{false: 0, true: 1}[tt.wantLink] {
				t.Errorf("span links: got %d, want link %v", got, tt.wantLink)
			}
		})
	}
}

// A carrier that can hide the correlation keys is told which, after they
// were read: the correlation ID then comes from Inbound alone.
func TestConfigInboundHidesCorrelationKeys(t *testing.T) {
	c := instrument.New([]middleware.Option{middleware.WithCorrelationHeaders("X-Corr", "X-Req")})
	carrier := &hidingCarrier{HeaderCarrier: propagation.HeaderCarrier(http.Header{"X-Req": {"hidden-then-set"}})}
	ctx, in := c.Inbound(context.Background(), carrier, "10.0.0.1:1")
	if got, want := strings.Join(carrier.hidden, ","), "X-Corr,X-Req"; got != want {
		t.Errorf("hidden keys: got %q, want %q", got, want)
	}
	if id, _ := trace.CorrelationID(ctx); id != "hidden-then-set" || in.CorrelationID != "hidden-then-set" {
		t.Errorf("correlation ID: got ctx %q, Inbound %q; want hidden-then-set", id, in.CorrelationID)
	}
}

// The same holds for a carrier other than the HTTP middleware's, such as
// another protocol's integration would pass to Config.Inbound.
func TestConfigInboundCustomHeadersPlainCarrier(t *testing.T) {
	c := instrument.New([]middleware.Option{middleware.WithCorrelationHeaders("X-Trace-Token")})
	carrier := propagation.MapCarrier{"X-Request-ID": "chosen-by-caller", "traceparent": traceparent}
	ctx, in := c.Inbound(context.Background(), carrier, "10.0.0.1:1")
	if id, ok := trace.CorrelationID(ctx); ok || in.CorrelationID != "" {
		t.Errorf("correlation ID: got ctx %q, Inbound %q; want none", id, in.CorrelationID)
	}
	if got := oteltrace.SpanContextFromContext(ctx).TraceID().String(); got != remoteTraceID {
		t.Errorf("trace context: got trace %s, want %s (only correlation headers are hidden)", got, remoteTraceID)
	}
}
