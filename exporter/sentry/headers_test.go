package sentry_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	gbsentry "github.com/glassbox-obs/glassbox/exporter/sentry"
	"github.com/glassbox-obs/glassbox/internal/sentrytest"
	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/trace"
)

// maxEnvelope is far below Sentry's 1 MB event limit: no request can push
// an event past it and lose the report.
const maxEnvelope = 64 << 10

// headers returns the event's request headers.
func headers(ev map[string]any) map[string]string {
	out := map[string]string{}
	h, _ := ev["request"].(map[string]any)["headers"].(map[string]any)
	for k, v := range h {
		s, _ := v.(string)
		out[k] = s
	}
	return out
}

// TestRequestHeadersThroughMiddleware: a real request through the HTTP
// middleware, reported by its 500, carries only allowlisted headers, with
// URL headers scrubbed and invalid correlation IDs left out.
func TestRequestHeadersThroughMiddleware(t *testing.T) {
	bigInvalidID := strings.Repeat("x!", 100<<10) // 200 kB, '!' is not an ID byte
	tests := []struct {
		name       string
		opts       []gbsentry.Option
		header     map[string]string
		want       map[string]string // header -> value in the event
		wantAbsent []string          // headers not in the event
		never      []string          // strings in no envelope byte
	}{
		{
			name: "referer token and huge invalid correlation ID",
			header: map[string]string{
				"Referer":          "https://app/cb?access_token=SECRET123&state=ok#frag",
				"X-Correlation-ID": bigInvalidID,
				"User-Agent":       "probe/1.0",
			},
			want: map[string]string{
				"Referer":    "https://app/cb?access_token=[REDACTED]&state=ok",
				"User-Agent": "probe/1.0",
			},
			wantAbsent: []string{"X-Correlation-Id"},
			never:      []string{"SECRET123", "frag", "x!x!x!x!"},
		},
		{
			name: "valid correlation ID, user info in origin, unlisted header",
			header: map[string]string{
				"X-Correlation-ID": "corr-valid-1",
				"Origin":           "https://bob:hunter2@app.example",
				"X-Tenant":         "tenant-private-42",
			},
			want: map[string]string{
				"X-Correlation-Id": "corr-valid-1",
				"Origin":           "https://app.example",
			},
			wantAbsent: []string{"X-Tenant"},
			never:      []string{"hunter2", "tenant-private-42"},
		},
		{
			name: "added header, added header on the redaction list",
			opts: []gbsentry.Option{gbsentry.WithRequestHeaders("x-tenant", "X-Session")},
			header: map[string]string{
				"X-Tenant":  "tenant-42",
				"X-Session": "sess-SECRET",
			},
			want: map[string]string{
				"X-Tenant":  "tenant-42",
				"X-Session": "[REDACTED]",
			},
			never: []string{"sess-SECRET"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStack(t, tt.opts...)
			mux := http.NewServeMux()
			mux.HandleFunc("GET /cb", func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusInternalServerError)
			})
			ts := httptest.NewServer(middleware.HTTP(s.mwOpts...)(mux))
			defer ts.Close()
			req, _ := http.NewRequest(http.MethodGet, ts.URL+"/cb?code=1", nil)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusInternalServerError {
				t.Fatalf("got status %d, want 500", resp.StatusCode)
			}
			ev := events(t, s.rep, s.srv, 1)[0]
			h := headers(ev)
			for k, want := range tt.want {
				if got := h[k]; got != want {
					t.Errorf("got header %s = %q, want %q", k, got, want)
				}
			}
			for _, k := range tt.wantAbsent {
				if v, ok := h[k]; ok {
					t.Errorf("got header %s = %.40q, want it left out", k, v)
				}
			}
			if id := str(ev, "tags", "correlation_id"); !trace.ValidCorrelationID(id) {
				t.Errorf("got correlation_id tag %.40q, want a valid ID", id)
			}
			env := s.srv.Envelopes()[0]
			if len(env.Raw) > maxEnvelope {
				t.Errorf("got a %d-byte envelope, want at most %d", len(env.Raw), maxEnvelope)
			}
			for _, n := range tt.never {
				if bytes.Contains(env.Raw, []byte(n)) {
					t.Errorf("envelope contains %q", n)
				}
			}
		})
	}
}

// rawForms are the forms a hostile character takes in JSON bytes: raw,
// or escaped by encoding/json. Neither may reach an event.
var rawForms = []string{"\r", "\n", "\x00", "\x1b", "\u2028", "\u202e",
	`\r`, `\n`, `\u0000`, `\u001b`, `\u2028`, `\u202e`}

// noneOf fails if an item payload of env (the JSON sent; the envelope
// itself is newline-delimited) contains one of the strings.
func noneOf(t *testing.T, env *sentrytest.Envelope, strs []string) {
	t.Helper()
	if len(env.Items) == 0 {
		t.Fatal("got an envelope without items")
	}
	for _, it := range env.Items {
		for _, s := range strs {
			if i := bytes.Index(it.Payload, []byte(s)); i >= 0 {
				t.Errorf("%s item contains %.40q: ...%q...", it.Type, s, it.Payload[max(0, i-60):min(len(it.Payload), i+20)])
			}
		}
	}
}

// TestHostileRequestValues: control characters, ANSI, U+2028, bidi
// overrides, invalid UTF-8 and megabyte values in every request-derived
// field are sanitised and capped.
func TestHostileRequestValues(t *testing.T) {
	huge := strings.Repeat("A", 1<<20)
	hostile := func() *http.Request {
		req := httptest.NewRequest(http.MethodGet, "http://shop.example/p?q=1", nil)
		req.URL.Path = "/p/" + huge + "\r\n\x1b[31m"
		req.URL.RawQuery = "a=\x1b[2J&token=SECRET-Q&pad=" + huge
		req.Header.Set("User-Agent", "curl/8\r\nX-Injected: 1\x00\x1b[31m\u2028\u202e\xff")
		req.Header.Set("Accept-Language", huge)
		req.Header.Set("Referer", "https://app/cb?access_token=SECRET-R&x="+huge)
		req.Header.Set("Origin", "https://app\u2028evil")
		req.Header.Set("Cookie", "a\r\nb=SECRET-C; "+huge+"=v")
		req.Header.Set("X-Correlation-ID", "bad\r\nid")
		req.Header.Set("X-Unlisted", huge)
		return req
	}
	wantUA := "curl/8\uFFFD\uFFFDX-Injected: 1\uFFFD\uFFFD[31m\uFFFD\uFFFD\uFFFD"
	check := func(t *testing.T, srv *sentrytest.Server, ev map[string]any) {
		t.Helper()
		h := headers(ev)
		if got := h["User-Agent"]; got != wantUA {
			t.Errorf("got User-Agent %q, want %q", got, wantUA)
		}
		if got := h["Origin"]; got != "https://app\uFFFDevil" {
			t.Errorf("got Origin %q, want the line separator replaced", got)
		}
		for _, k := range []string{"Accept-Language", "Referer"} {
			if got := h[k]; len(got) > 1024 || !strings.HasSuffix(got, "...") {
				t.Errorf("got %s of %d bytes ending %q, want at most 1024 ending \"...\"", k, len(got), got[max(0, len(got)-8):])
			}
		}
		if !strings.HasPrefix(h["Referer"], "https://app/cb?access_token=[REDACTED]&x=AAA") {
			t.Errorf("got Referer %.60q, want the token redacted", h["Referer"])
		}
		if _, ok := h["X-Unlisted"]; ok {
			t.Error("got header X-Unlisted, want it left out")
		}
		if _, ok := h["X-Correlation-Id"]; ok {
			t.Error("got an invalid X-Correlation-ID, want it left out")
		}
		for _, f := range []string{"url", "query_string", "cookies"} {
			if got := str(ev, "request", f); got == "" || len(got) > 2048 {
				t.Errorf("got request.%s of %d bytes, want 1..2048", f, len(got))
			}
		}
		if got := str(ev, "request", "query_string"); !strings.HasPrefix(got, "a=\uFFFD[2J&token=[REDACTED]&pad=AAA") {
			t.Errorf("got query_string %.60q", got)
		}
		envs := srv.Envelopes()
		env := envs[len(envs)-1]
		if len(env.Raw) > maxEnvelope {
			t.Errorf("got a %d-byte envelope, want at most %d", len(env.Raw), maxEnvelope)
		}
		if !utf8.Valid(env.Raw) {
			t.Error("envelope is not valid UTF-8")
		}
		noneOf(t, env, append([]string{"SECRET-", "X-Injected: 1\x00", strings.Repeat("A", 2048)}, rawForms...))
	}

	t.Run("reporter event", func(t *testing.T) {
		srv := sentrytest.NewServer(t)
		rep := newReporter(t, srv)
		req := &middleware.Request{Protocol: "http", HTTP: hostile(), Method: "GET\r\n", Route: "/p/{id}\u2028\x1b[0m",
			CorrelationID: "bad\r\nid"}
		ctx := rep.Begin(context.Background(), req)
		if id := rep.End(ctx, req, &middleware.Outcome{Status: 500}); id == "" {
			t.Fatal("got no event ID, want one")
		}
		ev := events(t, rep, srv, 1)[0]
		check(t, srv, ev)
		if got, want := str(ev, "transaction"), "GET\uFFFD\uFFFD /p/{id}\uFFFD\uFFFD[0m"; got != want {
			t.Errorf("got transaction %q, want %q", got, want)
		}
		if got, want := str(ev, "tags", "route"), "/p/{id}\uFFFD\uFFFD[0m"; got != want {
			t.Errorf("got route tag %q, want %q", got, want)
		}
		if got := str(ev, "tags", "correlation_id"); got != "" {
			t.Errorf("got correlation_id tag %q, want none for an invalid ID", got)
		}
	})
}

// TestQueryStringMatchesAccessLog: the event's query string is the
// middleware's url.query, byte for byte, redaction marker included.
func TestQueryStringMatchesAccessLog(t *testing.T) {
	s := newStack(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /q", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	ts := httptest.NewServer(middleware.HTTP(s.mwOpts...)(mux))
	defer ts.Close()
	resp, err := http.Get(ts.URL + "/q?page=2&api_key=SECRETK&user%5Ftoken=SECRETT&empty&x=%20y")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	ev := events(t, s.rep, s.srv, 1)[0]
	recs := recordsOf(t, s.logs, "request completed")
	if len(recs) != 1 {
		t.Fatalf("got %d access log records, want 1", len(recs))
	}
	logged := str(recs[0], "url.query")
	got := str(ev, "request", "query_string")
	if got != logged {
		t.Errorf("got query_string %q, want the access log's url.query %q", got, logged)
	}
	if want := "page=2&api_key=[REDACTED]&user%5Ftoken=[REDACTED]&empty&x=%20y"; got != want {
		t.Errorf("got query_string %q, want %q", got, want)
	}
}

// TestCorrelationHeadersShowTheIDInForce: a captured correlation header
// shows exactly the correlation ID the request ran with, or is left out:
// never a value the middleware rejected, nor one that lost to another
// header.
func TestCorrelationHeadersShowTheIDInForce(t *testing.T) {
	tests := []struct {
		name   string
		header map[string][]string
		want   map[string]bool // headers present in the event (with the ID in force)
	}{
		{"rejected list", map[string][]string{"X-Correlation-ID": {"good-1, HOSTILE x"}}, nil},
		{"two lines", map[string][]string{"X-Correlation-ID": {"good-1", "good-2"}}, nil},
		{"invalid first, valid second", map[string][]string{"X-Correlation-ID": {"bad id!"}, "X-Request-ID": {"req-ok"}},
			map[string]bool{"X-Request-Id": true}},
		{"both valid", map[string][]string{"X-Correlation-ID": {"corr-a"}, "X-Request-ID": {"req-b"}},
			map[string]bool{"X-Correlation-Id": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStack(t)
			ts := httptest.NewServer(middleware.HTTP(s.mwOpts...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusInternalServerError)
			})))
			defer ts.Close()
			req, _ := http.NewRequest(http.MethodGet, ts.URL+"/x", nil)
			for k, vs := range tt.header {
				for _, v := range vs {
					req.Header.Add(k, v)
				}
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			inForce := resp.Header.Get("X-Correlation-ID")
			ev := events(t, s.rep, s.srv, 1)[0]
			if got := str(ev, "tags", "correlation_id"); got != inForce {
				t.Errorf("got correlation_id tag %q, want the ID in force %q", got, inForce)
			}
			h := headers(ev)
			for _, k := range []string{"X-Correlation-Id", "X-Request-Id"} {
				v, ok := h[k]
				switch {
				case ok != tt.want[k]:
					t.Errorf("got header %s present=%v (%q), want present=%v", k, ok, v, tt.want[k])
				case ok && v != inForce:
					t.Errorf("got header %s = %q, want the ID in force %q", k, v, inForce)
				}
			}
		})
	}
}
