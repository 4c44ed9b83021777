package middleware_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/trace"
)

// seen is what a handler saw in its context.
type seen struct {
	corrID   string
	traceID  string
	baggage  string
	hasCorr  bool
	observed any
}

func capture(s *seen) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.corrID, s.hasCorr = trace.CorrelationID(r.Context())
		s.traceID, _ = trace.TraceID(r.Context())
		s.baggage = baggage.FromContext(r.Context()).String()
		_, _ = io.WriteString(w, "ok")
	}
}

func routed(h http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /users/{id}", h)
	mux.Handle("/", h)
	return mux
}

const (
	remoteTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	remoteSpanID  = "00f067aa0ba902b7"
	traceparent   = "00-" + remoteTraceID + "-" + remoteSpanID + "-01"
)

func TestHTTPServerSpanAndAccessLog(t *testing.T) {
	f := newFixture(t)
	var s seen
	h := middleware.HTTP(f.opts()...)(routed(capture(&s)))

	req := httptest.NewRequest("GET", "http://api.example.com:8080/users/42?x=1&token=abc", nil)
	req.Header.Set("User-Agent", "test-agent/1.0")
	req.Header.Set("traceparent", traceparent)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)

	span := f.span(t)
	if got, want := span.Name, "GET /users/{id}"; got != want {
		t.Errorf("span name: got %q, want %q", got, want)
	}
	if got, want := span.SpanKind, oteltrace.SpanKindServer; got != want {
		t.Errorf("span kind: got %v, want %v", got, want)
	}
	if got := span.Parent.SpanID().String(); got != remoteSpanID {
		t.Errorf("parent span: got %s, want %s", got, remoteSpanID)
	}
	wantAttrs := map[string]string{
		"http.request.method":       "GET",
		"url.path":                  "/users/42",
		"url.scheme":                "http",
		"url.query":                 "x=1&token=[REDACTED]",
		"http.route":                "/users/{id}",
		"http.response.status_code": "200",
		"server.address":            "api.example.com",
		"server.port":               "8080",
		"user_agent.original":       "test-agent/1.0",
		"client.address":            "192.0.2.1",
		"correlation.id":            remoteTraceID,
	}
	for k, want := range wantAttrs {
		v, ok := attrOf(span.Attributes, k)
		if !ok || v.Emit() != want {
			t.Errorf("span attribute %s: got %q (present %v), want %q", k, v.Emit(), ok, want)
		}
	}
	if span.Status.Code == codes.Error {
		t.Errorf("span status: got Error, want Unset")
	}

	// No correlation header: the ID is the trace ID, in ctx and response.
	if s.corrID != remoteTraceID || s.traceID != remoteTraceID {
		t.Errorf("handler saw correlation %q trace %q, want both %q", s.corrID, s.traceID, remoteTraceID)
	}
	if got := rec.Header().Get("X-Correlation-ID"); got != remoteTraceID {
		t.Errorf("response X-Correlation-ID: got %q, want %q", got, remoteTraceID)
	}

	acc := f.record(t, "request completed")
	wantLog := map[string]any{
		"log.level":                 "info",
		"http.request.method":       "GET",
		"url.path":                  "/users/42",
		"url.query":                 "x=1&token=[REDACTED]",
		"http.route":                "/users/{id}",
		"http.response.status_code": float64(200),
		"http.response.body.bytes":  float64(2),
		"client.ip":                 "192.0.2.1",
		"user_agent.original":       "test-agent/1.0",
		"correlation.id":            remoteTraceID,
		"trace.id":                  remoteTraceID,
		"span.id":                   span.SpanContext.SpanID().String(),
	}
	for k, want := range wantLog {
		if got := acc[k]; got != want {
			t.Errorf("access log %s: got %v, want %v", k, got, want)
		}
	}
	if d, ok := acc["event.duration"].(float64); !ok || d <= 0 {
		t.Errorf("access log event.duration: got %v, want a positive number of nanoseconds", acc["event.duration"])
	}
}

func TestHTTPCorrelationHeader(t *testing.T) {
	tests := []struct {
		name    string
		opts    []middleware.Option
		headers [][2]string
		want    string // "" = the trace ID
	}{
		{"x-correlation-id", nil, [][2]string{{"X-Correlation-ID", "abc-123"}}, "abc-123"},
		{"x-request-id fallback", nil, [][2]string{{"X-Request-ID", "req.7"}}, "req.7"},
		{"correlation wins", nil, [][2]string{{"X-Request-ID", "req"}, {"X-Correlation-ID", "corr"}}, "corr"},
		{"invalid then valid", nil, [][2]string{{"X-Correlation-ID", "bad value"}, {"X-Request-ID", "good"}}, "good"},
		{"none", nil, nil, ""},
		{"custom header", []middleware.Option{middleware.WithCorrelationHeaders("X-Trace-Tag")}, [][2]string{{"X-Trace-Tag", "tag1"}}, "tag1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			var s seen
			h := middleware.HTTP(f.opts(tt.opts...)...)(capture(&s))
			req := httptest.NewRequest("GET", "/x", nil)
			for _, kv := range tt.headers {
				req.Header.Add(kv[0], kv[1])
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			want := tt.want
			if want == "" {
				want = f.span(t).SpanContext.TraceID().String()
			}
			if s.corrID != want {
				t.Errorf("handler correlation ID: got %q, want %q", s.corrID, want)
			}
			echo := "X-Correlation-ID"
			if len(tt.opts) > 0 {
				echo = "X-Trace-Tag"
			}
			if got := rec.Header().Get(echo); got != want {
				t.Errorf("response %s: got %q, want %q", echo, got, want)
			}
			if got := f.record(t, "request completed")["correlation.id"]; got != want {
				t.Errorf("access log correlation.id: got %v, want %q", got, want)
			}
		})
	}
}

func TestHTTPStatusLevels(t *testing.T) {
	tests := []struct {
		status int
		opts   []middleware.Option
		level  string
		err    bool
	}{
		{200, nil, "info", false},
		{302, nil, "info", false},
		{404, nil, "warn", false},
		{503, nil, "error", true},
		{404, []middleware.Option{middleware.WithStatusLevel(func(int) slog.Level { return slog.LevelDebug })}, "debug", false},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status)+"/"+tt.level, func(t *testing.T) {
			f := newFixture(t)
			h := middleware.HTTP(f.opts(tt.opts...)...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
			}))
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
			acc := f.record(t, "request completed")
			if got := acc["log.level"]; got != tt.level {
				t.Errorf("log.level: got %v, want %s", got, tt.level)
			}
			if got := acc["http.response.status_code"]; got != float64(tt.status) {
				t.Errorf("status: got %v, want %d", got, tt.status)
			}
			if got := f.span(t).Status.Code == codes.Error; got != tt.err {
				t.Errorf("span status Error: got %v, want %v", got, tt.err)
			}
		})
	}
}

func TestHTTPPanic(t *testing.T) {
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		wantStatus int
		wantBody   string
		wantType   string
		// wantAbort: the middleware panics with http.ErrAbortHandler after
		// recording, for net/http to cut the started response.
		wantAbort bool
	}{
		{"before header", func(w http.ResponseWriter, r *http.Request) {
			panic("boom before")
		}, 500, "Internal Server Error\n", "string", false},
		{"after header", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusAccepted)
			_, _ = io.WriteString(w, "partial")
			panic(errors.New("boom after"))
		}, 202, "partial", "*errors.errorString", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			obs := &recordingObserver{eventID: "ev-0123456789abcdef", logs: f.logs}
			h := middleware.HTTP(f.opts(middleware.WithObservers(obs))...)(tt.handler)
			rec := httptest.NewRecorder()
			p := serveRecover(h, rec, httptest.NewRequest("POST", "/p", nil))
			if tt.wantAbort && p != http.ErrAbortHandler || !tt.wantAbort && p != nil {
				t.Errorf("panic out of the middleware: got %v, want abort %v", p, tt.wantAbort)
			}
			if rec.Code != tt.wantStatus || rec.Body.String() != tt.wantBody {
				t.Errorf("response: got %d %q, want %d %q", rec.Code, rec.Body.String(), tt.wantStatus, tt.wantBody)
			}
			span := f.span(t)
			id := span.SpanContext.TraceID().String()
			if got := rec.Header().Get("X-Correlation-ID"); got != id {
				t.Errorf("X-Correlation-ID on panic: got %q, want %q", got, id)
			}
			if span.Status.Code != codes.Error {
				t.Errorf("span status: got %v, want Error", span.Status.Code)
			}
			var exc bool
			for _, e := range span.Events {
				if e.Name == "exception" {
					st, _ := attrOf(e.Attributes, "exception.stacktrace")
					exc = strings.Contains(st.AsString(), "TestHTTPPanic")
				}
			}
			if !exc {
				t.Errorf("span has no exception event with the stack: %+v", span.Events)
			}
			if obs.begins != 1 || len(obs.ends) != 1 {
				t.Fatalf("observer: got %d Begin %d End, want 1 and 1", obs.begins, len(obs.ends))
			}
			out := obs.ends[0]
			if out.Panic == nil || len(out.Stack) == 0 || out.Status != tt.wantStatus {
				t.Errorf("outcome: got panic %v, %d stack bytes, status %d; want panic, stack, %d", out.Panic, len(out.Stack), out.Status, tt.wantStatus)
			}
			if strings.Contains(obs.logsAt[0], "panic recovered") {
				t.Errorf("the error record was written before Observer.End")
			}
			er := f.record(t, "panic recovered")
			if er["log.level"] != "error" || er["error.id"] != obs.eventID || er["correlation.id"] != id {
				t.Errorf("error record: got level %v error.id %v correlation.id %v, want error %s %s", er["log.level"], er["error.id"], er["correlation.id"], obs.eventID, id)
			}
			if st, _ := er["error.stack_trace"].(string); !strings.Contains(st, "TestHTTPPanic") {
				t.Errorf("error.stack_trace does not show the panicking function: %q", trunc(st))
			}
			acc := f.record(t, "request completed")
			if acc["log.level"] != "error" || acc["error.id"] != obs.eventID || acc["error.type"] != tt.wantType {
				t.Errorf("access log: got level %v error.id %v error.type %v, want error %s %s", acc["log.level"], acc["error.id"], acc["error.type"], obs.eventID, tt.wantType)
			}
			if got := acc["http.response.status_code"]; got != float64(tt.wantStatus) {
				t.Errorf("access log status: got %v, want %d", got, tt.wantStatus)
			}
		})
	}
}

// serveRecover serves req and returns what panicked out of h, or nil.
func serveRecover(h http.Handler, w http.ResponseWriter, req *http.Request) (p any) {
	defer func() { p = recover() }()
	h.ServeHTTP(w, req)
	return nil
}

func TestHTTPErrAbortHandlerRepanics(t *testing.T) {
	f := newFixture(t)
	obs := &recordingObserver{eventID: "ev"}
	h := middleware.HTTP(f.opts(middleware.WithObservers(obs))...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic(http.ErrAbortHandler)
	}))
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", p)
		}
		if len(obs.ends) != 1 || obs.ends[0].Panic != nil || obs.ends[0].Err != http.ErrAbortHandler {
			t.Errorf("observer outcome: got %+v, want Err = http.ErrAbortHandler and no Panic", obs.ends)
		}
		if n := len(f.exp.GetSpans()); n != 1 {
			t.Errorf("got %d spans, want 1 (ended before re-panicking)", n)
		}
		for _, r := range f.records(t) {
			if r["message"] == "panic recovered" {
				t.Errorf("ErrAbortHandler logged as a panic")
			}
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}

func TestHTTPFilters(t *testing.T) {
	tests := []struct {
		name string
		opts []middleware.Option
		path string
		skip bool
	}{
		{"healthz default", nil, "/healthz", true},
		{"readyz default", nil, "/readyz", true},
		{"other path", nil, "/api", false},
		{"custom skip", []middleware.Option{middleware.WithSkipPaths("/ping")}, "/ping", true},
		{"custom replaces default", []middleware.Option{middleware.WithSkipPaths("/ping")}, "/healthz", false},
		{"filter func", []middleware.Option{middleware.WithFilter(func(r *middleware.Request) bool {
			return r.HTTP.Header.Get("X-Synthetic") == ""
		})}, "/api", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			ran := false
			var seenID string
			h := middleware.HTTP(f.opts(tt.opts...)...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ran = true
				seenID, _ = trace.CorrelationID(r.Context())
			}))
			req := httptest.NewRequest("GET", tt.path, nil)
			req.Header.Set("X-Synthetic", "1")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if !ran {
				t.Fatal("handler did not run")
			}
			spans, recs := len(f.exp.GetSpans()), len(f.records(t))
			if !trace.ValidCorrelationID(rec.Header().Get("X-Correlation-ID")) || seenID != rec.Header().Get("X-Correlation-ID") {
				t.Errorf("correlation ID: handler saw %q, response has %q; want the same valid ID", seenID, rec.Header().Get("X-Correlation-ID"))
			}
			if tt.skip && (spans != 0 || recs != 0) {
				t.Errorf("skipped request: got %d spans %d records, want none", spans, recs)
			}
			if !tt.skip && (spans != 1 || recs != 1) {
				t.Errorf("instrumented request: got %d spans %d records, want 1 and 1", spans, recs)
			}
		})
	}
}

func TestHTTPPublicEndpoint(t *testing.T) {
	tests := []struct {
		name    string
		opts    []middleware.Option
		remote  string
		trusted bool
	}{
		{"not public", nil, "203.0.113.9:5000", true},
		{"public untrusted", []middleware.Option{middleware.WithPublicEndpoint()}, "203.0.113.9:5000", false},
		{"public trusted peer", []middleware.Option{middleware.WithPublicEndpoint(), middleware.WithTrustedPeers("10.0.0.0/8")}, "10.1.2.3:5000", true},
		{"public peer outside list", []middleware.Option{middleware.WithPublicEndpoint(), middleware.WithTrustedPeers("10.0.0.0/8")}, "11.1.2.3:5000", false},
		{"public trusted ipv6 single", []middleware.Option{middleware.WithPublicEndpoint(), middleware.WithTrustedPeers("::1")}, "[::1]:5000", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			var s seen
			h := middleware.HTTP(f.opts(tt.opts...)...)(capture(&s))
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = tt.remote
			req.Header.Set("traceparent", traceparent)
			req.Header.Set("baggage", "user=alice")
			req.Header.Set("X-Correlation-ID", "from-caller")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			span := f.span(t)
			if tt.trusted {
				if span.Parent.TraceID().String() != remoteTraceID || s.baggage != "user=alice" || s.corrID != "from-caller" {
					t.Errorf("trusted: got parent %s baggage %q correlation %q, want %s user=alice from-caller", span.Parent.TraceID(), s.baggage, s.corrID, remoteTraceID)
				}
				return
			}
			if span.Parent.IsValid() || span.SpanContext.TraceID().String() == remoteTraceID {
				t.Errorf("public: span has parent %v trace %s, want a new root", span.Parent, span.SpanContext.TraceID())
			}
			if len(span.Links) != 1 || span.Links[0].SpanContext.TraceID().String() != remoteTraceID {
				t.Errorf("public: got links %+v, want one to the caller's trace", span.Links)
			}
			if s.baggage != "" {
				t.Errorf("public: handler saw baggage %q, want none", s.baggage)
			}
			if want := span.SpanContext.TraceID().String(); s.corrID != want || rec.Header().Get("X-Correlation-ID") != want {
				t.Errorf("public: correlation ID %q (response %q), want the new trace ID %s", s.corrID, rec.Header().Get("X-Correlation-ID"), want)
			}
		})
	}
}

func TestHTTPTrustedProxies(t *testing.T) {
	tests := []struct {
		name   string
		opts   []middleware.Option
		remote string
		xff    []string
		want   string
	}{
		{"no proxies configured", nil, "10.0.0.1:1", []string{"1.2.3.4"}, "10.0.0.1"},
		{"from untrusted peer", []middleware.Option{middleware.WithTrustedProxies("10.0.0.0/8")}, "8.8.8.8:1", []string{"1.2.3.4"}, "8.8.8.8"},
		{"trusted proxy", []middleware.Option{middleware.WithTrustedProxies("10.0.0.0/8")}, "10.0.0.1:1", []string{"1.2.3.4"}, "1.2.3.4"},
		{"spoofed left entries ignored", []middleware.Option{middleware.WithTrustedProxies("10.0.0.0/8")}, "10.0.0.1:1", []string{"6.6.6.6, 1.2.3.4, 10.0.0.7"}, "1.2.3.4"},
		{"multiple headers", []middleware.Option{middleware.WithTrustedProxies("10.0.0.0/8")}, "10.0.0.1:1", []string{"6.6.6.6", "1.2.3.4"}, "1.2.3.4"},
		{"garbage stops", []middleware.Option{middleware.WithTrustedProxies("10.0.0.0/8")}, "10.0.0.1:1", []string{"1.2.3.4, \r\nevil"}, "10.0.0.1"},
		{"single address", []middleware.Option{middleware.WithTrustedProxies("10.0.0.1")}, "10.0.0.1:1", []string{"2001:db8::1"}, "2001:db8::1"},
		{"not an IP", nil, "@", nil, "@"},
		{"zoned IPv6", nil, "[fe80::1%eth0]:443", nil, "fe80::1%eth0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			h := middleware.HTTP(f.opts(tt.opts...)...)(http.NotFoundHandler())
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			h.ServeHTTP(httptest.NewRecorder(), req)
			acc := f.record(t, "request completed")
			key := "client.ip"
			if tt.want == "@" || strings.Contains(tt.want, "%") {
				key = "client.address" // client.ip must hold an IP (ECS type ip)
				if _, ok := acc["client.ip"]; ok {
					t.Errorf("client.ip written for a non-IP address: %v", acc["client.ip"])
				}
			}
			if got := acc[key]; got != tt.want {
				t.Errorf("%s: got %v, want %s", key, got, tt.want)
			}
			if v, _ := attrOf(f.span(t).Attributes, "client.address"); v.AsString() != tt.want {
				t.Errorf("client.address: got %v, want %s", v.AsString(), tt.want)
			}
		})
	}
}

func TestInvalidCIDRsAreReportedAndIgnored(t *testing.T) {
	var mu sync.Mutex
	var errs []error
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, err)
	}))
	t.Cleanup(func() { otel.SetErrorHandler(otel.ErrorHandlerFunc(func(error) {})) })

	f := newFixture(t)
	h := middleware.HTTP(f.opts(
		middleware.WithTrustedProxies("10.0.0.0/33", "not-an-ip", "10.0.0.0/8"),
		middleware.WithTrustedPeers("\x1b[31mevil"),
	)...)(http.NotFoundHandler())
	mu.Lock()
	n := len(errs)
	msgs := ""
	for _, e := range errs {
		msgs += e.Error() + "\n"
	}
	mu.Unlock()
	if n != 3 {
		t.Errorf("got %d reported errors, want 3:\n%s", n, msgs)
	}
	if !strings.Contains(msgs, "WithTrustedProxies") || !strings.Contains(msgs, "not-an-ip") {
		t.Errorf("errors do not name the option and entry:\n%s", msgs)
	}
	if strings.Contains(msgs, "\x1b") {
		t.Errorf("error message carries a raw escape character:\n%q", msgs)
	}
	// The valid entry still applies.
	req := httptest.NewRequest("GET", "/", nil)
	req.RemoteAddr = "10.9.9.9:1"
	req.Header.Set("X-Forwarded-For", "1.2.3.4")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if got := f.record(t, "request completed")["client.ip"]; got != "1.2.3.4" {
		t.Errorf("client.ip: got %v, want 1.2.3.4", got)
	}
}

func TestHTTPRequestHeadersAllowlist(t *testing.T) {
	f := newFixture(t)
	h := middleware.HTTP(f.opts(middleware.WithRequestHeaders("X-Tenant", "Authorization", "X-Absent"))...)(http.NotFoundHandler())
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-Tenant", "acme")
	req.Header.Set("Authorization", "Bearer secret-token")
	req.Header.Set("X-Other", "not captured")
	h.ServeHTTP(httptest.NewRecorder(), req)
	acc := f.record(t, "request completed")
	if got := acc["http.request.header.x-tenant"]; got != "acme" {
		t.Errorf("x-tenant: got %v, want acme", got)
	}
	if got := acc["http.request.header.authorization"]; got != "[REDACTED]" {
		t.Errorf("authorization: got %v, want [REDACTED]", got)
	}
	if strings.Contains(f.logs.String(), "secret-token") || strings.Contains(f.logs.String(), "not captured") {
		t.Errorf("logs contain a value that is redacted or not allowlisted:\n%s", f.logs.String())
	}
	span := f.span(t)
	if v, _ := attrOf(span.Attributes, "http.request.header.authorization"); v.Emit() != `["[REDACTED]"]` {
		t.Errorf("span authorization: got %s, want [[REDACTED]]", v.Emit())
	}
	if _, ok := attrOf(span.Attributes, "http.request.header.x-absent"); ok {
		t.Errorf("absent header recorded")
	}
}

func TestObserverBeginEnd(t *testing.T) {
	f := newFixture(t)
	obs := &recordingObserver{eventID: "ev1"}
	var ctxVal any
	h := middleware.HTTP(f.opts(middleware.WithObservers(obs))...)(routed(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctxVal = r.Context().Value(obsKey{})
		w.WriteHeader(http.StatusInternalServerError)
	})))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/users/7", nil))
	if ctxVal != "begun" {
		t.Errorf("handler context: got %v, want the one from Observer.Begin", ctxVal)
	}
	if obs.beginHTTP == nil || obs.beginHTTP.URL.Path != "/users/7" {
		t.Errorf("Observer.Begin did not see the HTTP request: %v", obs.beginHTTP)
	}
	if len(obs.ends) != 1 || obs.ends[0].Status != 500 || obs.ends[0].Panic != nil || obs.ends[0].Duration <= 0 {
		t.Fatalf("outcomes: got %+v, want one with status 500", obs.ends)
	}
	req := obs.reqs[0]
	if req.Protocol != "http" || req.Method != "GET" || req.Route != "/users/{id}" || req.HTTP == nil || req.CorrelationID == "" {
		t.Errorf("request: got %+v", req)
	}
	if got := f.record(t, "request completed")["error.id"]; got != "ev1" {
		t.Errorf("access log error.id: got %v, want ev1", got)
	}
}

func TestHTTPNilContextValuesDoNotPanic(t *testing.T) {
	// No options at all: globals and slog.Default are used.
	h := middleware.HTTP()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := trace.CorrelationID(r.Context()); !ok {
			t.Error("no correlation ID with default options")
		}
	}))
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	defer slog.SetDefault(prev)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if !trace.ValidCorrelationID(rec.Header().Get("X-Correlation-ID")) {
		t.Errorf("response X-Correlation-ID: got %q, want a valid ID", rec.Header().Get("X-Correlation-ID"))
	}
	_ = context.Background()
}
