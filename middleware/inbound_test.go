package middleware_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/trace"
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
			c := middleware.NewConfig(tt.opts...)
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
	c := middleware.NewConfig(middleware.WithCorrelationHeaders("X-Corr", "X-Req"))
	carrier := &hidingCarrier{HeaderCarrier: propagation.HeaderCarrier(http.Header{"X-Req": {"hidden-then-set"}})}
	ctx, in := c.Inbound(context.Background(), carrier, "10.0.0.1:1")
	if got, want := strings.Join(carrier.hidden, ","), "X-Corr,X-Req"; got != want {
		t.Errorf("hidden keys: got %q, want %q", got, want)
	}
	if id, _ := trace.CorrelationID(ctx); id != "hidden-then-set" || in.CorrelationID != "hidden-then-set" {
		t.Errorf("correlation ID: got ctx %q, Inbound %q; want hidden-then-set", id, in.CorrelationID)
	}
}

// Skipped paths make the same trust decision: a trusted caller's
// correlation ID (or trace ID) is used, an untrusted caller's never.
func TestHTTPSkippedPathTrust(t *testing.T) {
	public := []middleware.Option{middleware.WithPublicEndpoint(), middleware.WithTrustedPeers("10.0.0.0/8")}
	tests := []struct {
		name    string
		remote  string
		headers map[string]string
		want    string // "" means a new valid ID
	}{
		{"trusted, correlation header", "10.0.0.1:1", map[string]string{"X-Correlation-ID": "probe-1", "traceparent": traceparent}, "probe-1"},
		{"trusted, traceparent only", "10.0.0.1:1", map[string]string{"traceparent": traceparent}, remoteTraceID},
		{"untrusted, correlation header", "203.0.113.9:1", map[string]string{"X-Correlation-ID": "probe-1", "traceparent": traceparent}, ""},
		{"trusted, invalid header", "10.0.0.1:1", map[string]string{"X-Correlation-ID": "bad\nid"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			var seen string
			h := middleware.HTTP(f.opts(public...)...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen, _ = trace.CorrelationID(r.Context())
			}))
			req := httptest.NewRequest("GET", "/healthz", nil)
			req.RemoteAddr = tt.remote
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			got := rec.Header().Get("X-Correlation-ID")
			if got != seen {
				t.Errorf("response ID %q, handler saw %q; want the same", got, seen)
			}
			switch {
			case tt.want != "" && got != tt.want:
				t.Errorf("correlation ID: got %q, want %q", got, tt.want)
			case tt.want == "" && (!trace.ValidCorrelationID(got) || got == "probe-1" || got == remoteTraceID):
				t.Errorf("correlation ID: got %q, want a new one", got)
			}
			if n := len(f.exp.GetSpans()); n != 0 {
				t.Errorf("skipped path: got %d spans, want none", n)
			}
		})
	}
}

// Only the configured correlation headers are read: the default ones are
// ignored once WithCorrelationHeaders leaves them out, although the default
// propagator knows them too.
func TestCustomCorrelationHeadersIgnoreDefaultOnes(t *testing.T) {
	tests := []struct {
		name    string
		headers map[string]string
		want    string // "" means a new valid ID
	}{
		{"default headers only", map[string]string{"X-Request-ID": "chosen-by-caller", "X-Correlation-ID": "also-chosen"}, ""},
		{"configured header", map[string]string{"X-Trace-Token": "tok-1", "X-Request-ID": "chosen-by-caller"}, "tok-1"},
		{"invalid configured header", map[string]string{"X-Trace-Token": "bad\nvalue", "X-Correlation-ID": "also-chosen"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			var seen string
			h := middleware.HTTP(f.opts(middleware.WithCorrelationHeaders("X-Trace-Token"))...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen, _ = trace.CorrelationID(r.Context())
			}))
			req := httptest.NewRequest("GET", "/orders", nil)
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			got := rec.Header().Get("X-Trace-Token")
			if got != seen {
				t.Errorf("response X-Trace-Token %q, handler saw %q; want the same", got, seen)
			}
			switch {
			case tt.want != "" && got != tt.want:
				t.Errorf("correlation ID: got %q, want %q", got, tt.want)
			case tt.want == "" && (!trace.ValidCorrelationID(got) || got == "chosen-by-caller" || got == "also-chosen"):
				t.Errorf("correlation ID: got %q, want a new one", got)
			}
			for _, h := range []string{"X-Correlation-Id", "X-Request-Id"} {
				if v := rec.Header().Get(h); v != "" {
					t.Errorf("response header %s = %q, want none", h, v)
				}
			}
			if v, _ := attrOf(f.span(t).Attributes, "correlation.id"); v.AsString() != got {
				t.Errorf("span correlation.id: got %q, want %q", v.AsString(), got)
			}
		})
	}
}

// The same holds for a carrier other than the HTTP middleware's, such as
// another protocol's integration would pass to Config.Inbound.
func TestConfigInboundCustomHeadersPlainCarrier(t *testing.T) {
	c := middleware.NewConfig(middleware.WithCorrelationHeaders("X-Trace-Token"))
	carrier := propagation.MapCarrier{"X-Request-ID": "chosen-by-caller", "traceparent": traceparent}
	ctx, in := c.Inbound(context.Background(), carrier, "10.0.0.1:1")
	if id, ok := trace.CorrelationID(ctx); ok || in.CorrelationID != "" {
		t.Errorf("correlation ID: got ctx %q, Inbound %q; want none", id, in.CorrelationID)
	}
	if got := oteltrace.SpanContextFromContext(ctx).TraceID().String(); got != remoteTraceID {
		t.Errorf("trace context: got trace %s, want %s (only correlation headers are hidden)", got, remoteTraceID)
	}
}

// A propagator that carries correlation IDs under a header of its own does
// not decide the correlation ID either, in or out: only the configured
// headers do.
func TestPropagatorWithOtherCorrelationHeader(t *testing.T) {
	prop := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, trace.NewCorrelationPropagator("X-Trace-Ref"))
	for _, name := range []string{"default headers", "custom header"} {
		t.Run(name, func(t *testing.T) {
			opts := []middleware.Option{middleware.WithPropagator(prop)}
			echo := "X-Correlation-Id"
			if name == "custom header" {
				opts = append(opts, middleware.WithCorrelationHeaders("X-Corr"))
				echo = "X-Corr"
			}
			rec, seen, sent := relay(t, opts, map[string]string{"X-Trace-Ref": "from-unlisted-header", "traceparent": traceparent})
			if seen == "from-unlisted-header" || !trace.ValidCorrelationID(seen) {
				t.Errorf("handler's correlation ID: got %q, want a new one", seen)
			}
			if got := rec.Header().Get(echo); got != seen {
				t.Errorf("response %s: got %q, want %q", echo, got, seen)
			}
			if v, ok := sent["X-Trace-Ref"]; ok {
				t.Errorf("outgoing X-Trace-Ref = %v, want none", v)
			}
			if got := sent.Get(echo); got != seen {
				t.Errorf("outgoing %s: got %q, want %q", echo, got, seen)
			}
			if !strings.Contains(sent.Get("Traceparent"), remoteTraceID) {
				t.Errorf("outgoing traceparent %q is not in the caller's trace %s", sent.Get("Traceparent"), remoteTraceID)
			}
		})
	}
}

// namelessPropagator names no fields, as OTel's global propagator does
// when it is taken before one was set, then delegates to what is set
// later.
type namelessPropagator struct{ propagation.TextMapPropagator }

func (namelessPropagator) Fields() []string { return nil }

// Such a propagator may carry the correlation ID under any header; only the
// configured headers still decide it, in and out.
func TestPropagatorWithoutFields(t *testing.T) {
	prop := namelessPropagator{trace.Propagator()} // reads and writes X-Correlation-ID
	opts := []middleware.Option{middleware.WithPropagator(prop), middleware.WithCorrelationHeaders("X-Trace-Id")}
	_, seen, sent := relay(t, opts, map[string]string{"X-Correlation-ID": "from-unlisted-header"})
	if seen == "from-unlisted-header" || !trace.ValidCorrelationID(seen) {
		t.Errorf("handler's correlation ID: got %q, want a new one", seen)
	}
	if v, ok := sent["X-Correlation-Id"]; ok {
		t.Errorf("outgoing X-Correlation-Id = %v, want none", v)
	}
	if got := sent.Get("X-Trace-Id"); got != seen {
		t.Errorf("outgoing X-Trace-Id: got %q, want %q", got, seen)
	}
}

// relay serves one request with the given headers through the middleware
// built with opts, to a handler that calls a backend through the Transport
// built with the same opts. It returns the response, the correlation ID
// the handler saw and the headers the backend received.
func relay(t *testing.T, opts []middleware.Option, headers map[string]string) (rec *httptest.ResponseRecorder, seen string, sent http.Header) {
	t.Helper()
	f := newFixture(t)
	backend := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sent = r.Header.Clone() }))
	client := &http.Client{Transport: middleware.Transport(nil, f.opts(opts...)...)}
	h := middleware.HTTP(f.opts(opts...)...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = trace.CorrelationID(r.Context())
		req, _ := http.NewRequestWithContext(r.Context(), "GET", backend.URL, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		resp.Body.Close()
	}))
	req := httptest.NewRequest("GET", "/orders", nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec, seen, sent
}
