package middleware_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/internal/debugtoken"
	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/middleware/breakglass"
)

var (
	opsKey   = breakglass.Key{ID: "ops", Secret: []byte("0123456789abcdef0123456789abcdef")}
	otherKey = breakglass.Key{ID: "ops", Secret: []byte("another-secret-of-32-bytes-long!")}
)

func mintToken(t *testing.T, k breakglass.Key, ttl time.Duration, route, service string) string {
	t.Helper()
	tok, err := debugtoken.Mint(debugtoken.Key(k), time.Now().Add(ttl), route, service)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func newBreakGlass(t *testing.T) *breakglass.Verifier {
	t.Helper()
	bg, err := breakglass.New("checkout", []breakglass.Key{opsKey}, 0)
	if err != nil {
		t.Fatal(err)
	}
	return bg
}

// debugMux logs a DEBUG record on every route.
func debugMux(logger *slog.Logger) *http.ServeMux {
	mux := http.NewServeMux()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logger.DebugContext(r.Context(), "debug detail", "path", r.URL.Path)
	})
	mux.Handle("GET /orders/{id}", h)
	mux.Handle("GET /orders/export", h)
	mux.Handle("/", h)
	return mux
}

// A valid token debugs its request: DEBUG records written as they come
// (not kept for a failure), and one audit record at WARN.
func TestBreakGlassTokenDebugsTheRequest(t *testing.T) {
	f := newInfoFixture(t)
	bg := newBreakGlass(t)
	h := middleware.HTTP(f.opts(middleware.WithBreakGlass(bg), middleware.WithRequestHeaders(breakglass.Header))...)(debugMux(f.logger))
	tok := mintToken(t, opsKey, 10*time.Minute, "GET /orders/{id}", "checkout")
	req := httptest.NewRequest("GET", "/orders/42", nil)
	req.Header.Set(breakglass.Header, tok)
	req.Header.Set("X-Correlation-ID", "ticket-4711")
	req.RemoteAddr = "198.51.100.7:5555"
	h.ServeHTTP(httptest.NewRecorder(), req)

	if got, want := summary(t, f.records(t)), "break-glass debugging on, debug detail, request completed(info)"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	audit := f.record(t, "break-glass debugging on")
	for k, want := range map[string]any{
		"log.level": "warn", "event.kind": "event", "event.category": "iam", "event.type": "admin",
		"event.action": "debug-token-accepted", "event.outcome": "success",
		"glassbox.debug.key_id": "ops", "glassbox.debug.route": "GET /orders/{id}", "glassbox.debug.service": "checkout",
		"glassbox.debug.origin": "token", "correlation.id": "ticket-4711", "client.ip": "198.51.100.7",
		"http.request.method": "GET", "url.path": "/orders/42",
	} {
		if audit[k] != want {
			t.Errorf("audit %s: got %v, want %v", k, audit[k], want)
		}
	}
	if exp, err := time.Parse(time.RFC3339Nano, audit["glassbox.debug.expires"].(string)); err != nil || exp.Before(time.Now().Add(9*time.Minute)) {
		t.Errorf("audit expiry: got %v (%v)", audit["glassbox.debug.expires"], err)
	}
	if d := f.record(t, "debug detail"); d["glassbox.replayed"] != nil || d["correlation.id"] != "ticket-4711" {
		t.Errorf("debug record: %v", d)
	}
	if strings.Contains(f.logs.String(), tok) {
		t.Error("the token is in the logs")
	}
	if v, ok := attrOf(f.span(t).Attributes, "http.request.header.x-glassbox-debug"); !ok || v.AsStringSlice()[0] != "[REDACTED]" {
		t.Errorf("captured header on the span: got %v, want [REDACTED]", v.Emit())
	}
	if got := f.record(t, "request completed")["http.request.header.x-glassbox-debug"]; got != "[REDACTED]" {
		t.Errorf("captured header on the access record: got %v, want [REDACTED]", got)
	}
	if st := bg.Stats(); st != (breakglass.Stats{Accepted: 1}) {
		t.Errorf("stats: %+v", st)
	}

	// The next request, without a token, is at INFO again.
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/orders/42", nil))
	if got, want := summary(t, f.records(t)), "break-glass debugging on, debug detail, request completed(info), request completed(info)"; got != want {
		t.Errorf("without a token: got %q, want %q", got, want)
	}
}

// Tokens that are not valid are ignored and counted: the request runs as
// without them, and the value is never recorded.
func TestBreakGlassRefusedTokens(t *testing.T) {
	long := mintToken(t, opsKey, time.Minute, "", "")
	tests := []struct {
		name   string
		path   string
		tokens []string
		want   breakglass.Stats
	}{
		{"forged", "/orders/1", []string{mintToken(t, otherKey, time.Minute, "", "")}, breakglass.Stats{Forged: 1}},
		{"unknown key", "/orders/1", []string{mintToken(t, breakglass.Key{ID: "dev", Secret: opsKey.Secret}, time.Minute, "", "")}, breakglass.Stats{Forged: 1}},
		{"expired", "/orders/1", []string{mintToken(t, opsKey, -time.Second, "", "")}, breakglass.Stats{Expired: 1}},
		{"too long a TTL", "/orders/1", []string{mintToken(t, opsKey, 2*time.Hour, "", "")}, breakglass.Stats{TTLTooLong: 1}},
		{"other service", "/orders/1", []string{mintToken(t, opsKey, time.Minute, "", "payments")}, breakglass.Stats{WrongScope: 1}},
		{"other route", "/admin", []string{mintToken(t, opsKey, time.Minute, "GET /orders/{id}", "")}, breakglass.Stats{WrongScope: 1}},
		{"other method", "/orders/1", []string{mintToken(t, opsKey, time.Minute, "POST /orders/{id}", "")}, breakglass.Stats{WrongScope: 1}},
		{"invalid pattern", "/orders/1", []string{mintToken(t, opsKey, time.Minute, "GET /orders/{", "")}, breakglass.Stats{WrongScope: 1}},
		{"malformed", "/orders/1", []string{"\x1b[31mnot-a-token"}, breakglass.Stats{Malformed: 1}},
		{"truncated", "/orders/1", []string{long[:len(long)-5]}, breakglass.Stats{Malformed: 1}},
		{"repeated header", "/orders/1", []string{long, long}, breakglass.Stats{Malformed: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newInfoFixture(t)
			bg := newBreakGlass(t)
			h := middleware.HTTP(f.opts(middleware.WithBreakGlass(bg))...)(debugMux(f.logger))
			req := httptest.NewRequest("GET", tt.path, nil)
			for _, tok := range tt.tokens {
				req.Header.Add(breakglass.Header, tok)
			}
			h.ServeHTTP(httptest.NewRecorder(), req)
			if got, want := summary(t, f.records(t)), "request completed(info)"; got != want {
				t.Errorf("got %q, want %q", got, want)
			}
			for _, tok := range tt.tokens {
				if strings.Contains(f.logs.String(), tok) {
					t.Error("the token is in the logs")
				}
			}
			if got := bg.Stats(); got != tt.want {
				t.Errorf("stats: got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// A more specific route of the handler's mux that the token's pattern
// also matches is within the scope: the pattern is matched by net/http's
// rules on its own, before the handler's mux runs.
func TestBreakGlassRouteScopeIsAServeMuxPattern(t *testing.T) {
	f := newInfoFixture(t)
	bg := newBreakGlass(t)
	h := middleware.HTTP(f.opts(middleware.WithBreakGlass(bg))...)(debugMux(f.logger))
	tok := mintToken(t, opsKey, time.Minute, "GET /orders/{id}", "")
	for _, path := range []string{"/orders/7", "/orders/export"} {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set(breakglass.Header, tok)
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	if st := bg.Stats(); st.Accepted != 2 {
		t.Errorf("stats: %+v", st)
	}
}

// Without WithBreakGlass the header is an ordinary one.
func TestBreakGlassOff(t *testing.T) {
	f := newInfoFixture(t)
	h := middleware.HTTP(f.opts()...)(debugMux(f.logger))
	req := httptest.NewRequest("GET", "/orders/1", nil)
	req.Header.Set(breakglass.Header, mintToken(t, opsKey, time.Minute, "", ""))
	h.ServeHTTP(httptest.NewRecorder(), req)
	if got, want := summary(t, f.records(t)), "request completed(info)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := breakglass.New("s", nil, 0); err == nil {
		t.Error("NewBreakGlass without keys: no error")
	}
	if _, err := breakglass.New("s", []breakglass.Key{{ID: "k", Secret: []byte("short")}}, 0); err == nil {
		t.Error("NewBreakGlass with a short secret: no error")
	}
}

// A grant in the caller's tracestate debugs the request when it is bound
// to the caller's trace and comes from a trusted peer; on a public
// endpoint, from an untrusted one, it is ignored with the rest of the
// caller's trace context.
func TestBreakGlassGrantFromCaller(t *testing.T) {
	var g *debugtoken.Grant
	{
		v := debugtoken.NewVerifier([]debugtoken.Key{debugtoken.Key(opsKey)}, "", 0)
		c, _ := v.Verify(mintToken(t, opsKey, 5*time.Minute, "", ""), time.Now())
		g = c.Grant()
	}
	var tid [16]byte
	copy(tid[:], mustHex(t, remoteTraceID))
	grant := debugtoken.StateKey + "=" + g.StateValue(tid) + ",other=1"
	tests := []struct {
		name       string
		opts       []middleware.Option
		peer       string
		tracestate string
		wantDebug  bool
		want       breakglass.Stats
	}{
		{"internal service", nil, "10.0.0.5:1234", grant, true, breakglass.Stats{GrantsAccepted: 1}},
		{"public, trusted peer", []middleware.Option{middleware.WithPublicEndpoint(), middleware.WithTrustedPeers("10.0.0.0/8")}, "10.0.0.5:1234", grant, true, breakglass.Stats{GrantsAccepted: 1}},
		{"public, untrusted peer", []middleware.Option{middleware.WithPublicEndpoint()}, "203.0.113.1:1234", grant, false, breakglass.Stats{}},
		{"forged", nil, "10.0.0.5:1234", debugtoken.StateKey + "=d1.ops.1999999999.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", false, breakglass.Stats{GrantsRefused: 1}},
		{"malformed", nil, "10.0.0.5:1234", debugtoken.StateKey + "=x", false, breakglass.Stats{GrantsRefused: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newInfoFixture(t)
			bg := newBreakGlass(t)
			h := middleware.HTTP(f.opts(append(tt.opts, middleware.WithBreakGlass(bg))...)...)(debugMux(f.logger))
			req := httptest.NewRequest("GET", "/orders/1", nil)
			req.RemoteAddr = tt.peer
			req.Header.Set("traceparent", traceparent)
			req.Header.Set("tracestate", tt.tracestate)
			h.ServeHTTP(httptest.NewRecorder(), req)
			want := "request completed(info)"
			if tt.wantDebug {
				want = "break-glass debugging on, debug detail, request completed(info)"
			}
			if got := summary(t, f.records(t)); got != want {
				t.Errorf("got %q, want %q", got, want)
			}
			if tt.wantDebug {
				a := f.record(t, "break-glass debugging on")
				if a["event.action"] != "debug-grant-accepted" || a["glassbox.debug.origin"] != "caller" || a["trace.id"] != remoteTraceID {
					t.Errorf("audit: %v", a)
				}
			}
			if got := bg.Stats(); got != tt.want {
				t.Errorf("stats: got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	id, err := oteltrace.TraceIDFromHex(s)
	if err != nil {
		t.Fatal(err)
	}
	return id[:]
}
