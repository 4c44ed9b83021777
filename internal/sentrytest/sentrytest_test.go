package sentrytest_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/getsentry/sentry-go"
	"go.uber.org/goleak"

	"github.com/glassbox-obs/glassbox/internal/sentrytest"
	"github.com/glassbox-obs/glassbox/internal/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRealClientEnvelopeAccepted(t *testing.T) {
	srv := sentrytest.NewServer(t)
	c, err := sentry.NewClient(sentry.ClientOptions{Dsn: srv.DSN(), Release: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	id := c.CaptureMessage("hello", nil, nil)
	if id == nil {
		t.Fatal("got nil event ID")
	}
	if !c.Flush(5 * time.Second) {
		t.Fatal("flush timed out")
	}
	ev := srv.WaitEvents(t, 1, 5*time.Second)
	if got := ev[0]["message"]; got != "hello" {
		t.Errorf("got message %v, want hello", got)
	}
	if got := ev[0]["event_id"]; got != string(*id) {
		t.Errorf("got event_id %v, want %v", got, *id)
	}
	env := srv.Envelopes()[0]
	if !strings.Contains(env.HTTPHeader.Get("X-Sentry-Auth"), "sentry_key="+sentrytest.PublicKey) {
		t.Errorf("got X-Sentry-Auth %q", env.HTTPHeader.Get("X-Sentry-Auth"))
	}
}

func post(t *testing.T, url string, hdr map[string]string, body []byte) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

const envBody = `{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}
{"type":"event","length":22}
{"message":"hi","x":1}
{"type":"attachment"}
plain
`

func TestProtocol(t *testing.T) {
	srv := sentrytest.NewServer(t)
	auth := map[string]string{"X-Sentry-Auth": "Sentry sentry_version=7, sentry_client=x/1, sentry_key=" + sentrytest.PublicKey}
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write(b)
		w.Close()
		return buf.Bytes()
	}
	tests := []struct {
		name   string
		path   string
		hdr    map[string]string
		body   []byte
		status int
	}{
		{"ok", "/api/42/envelope/", auth, []byte(envBody), 200},
		{"gzip", "/api/42/envelope/", map[string]string{"X-Sentry-Auth": auth["X-Sentry-Auth"], "Content-Encoding": "gzip"}, gz([]byte(envBody)), 200},
		{"query key", "/api/42/envelope/?sentry_key=" + sentrytest.PublicKey, nil, []byte(envBody), 200},
		{"no auth", "/api/42/envelope/", nil, []byte(envBody), 401},
		{"wrong key", "/api/42/envelope/", map[string]string{"X-Sentry-Auth": "Sentry sentry_key=nope"}, []byte(envBody), 401},
		{"wrong project", "/api/7/envelope/", auth, []byte(envBody), 403},
		{"wrong path", "/api/42/store/", auth, []byte(envBody), 404},
		{"bad header", "/api/42/envelope/", auth, []byte("{oops\n{\"type\":\"event\"}\n{}\n"), 400},
		{"no items", "/api/42/envelope/", auth, []byte("{}\n"), 400},
		{"bad length", "/api/42/envelope/", auth, []byte("{}\n{\"type\":\"event\",\"length\":999}\n{}\n"), 400},
		{"item without type", "/api/42/envelope/", auth, []byte("{}\n{\"length\":2}\n{}\n"), 400},
		{"bad gzip", "/api/42/envelope/", map[string]string{"X-Sentry-Auth": auth["X-Sentry-Auth"], "Content-Encoding": "gzip"}, []byte(envBody), 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := post(t, srv.URL()+tt.path, tt.hdr, tt.body)
			if resp.StatusCode != tt.status {
				t.Fatalf("got status %d (%s), want %d", resp.StatusCode, body, tt.status)
			}
			if tt.status == 200 && !strings.Contains(body, `"id":"9ec79c33ec9942ab8353589fcb2e04dc"`) {
				t.Errorf("got body %s, want the event id", body)
			}
		})
	}
	env := srv.Envelopes()[0]
	if len(env.Items) != 2 || env.Items[1].Type != "attachment" || string(env.Items[1].Payload) != "plain" {
		t.Errorf("got items %+v", env.Items)
	}
}

func TestRateLimitHeaders(t *testing.T) {
	srv := sentrytest.NewServer(t)
	// envBody's event has no exception: its data category is default.
	srv.SetRateLimit(&sentrytest.Limit{RetryAfter: 30, Categories: []string{"default", "error"}, Scope: "project"})
	auth := map[string]string{"X-Sentry-Auth": "Sentry sentry_key=" + sentrytest.PublicKey}
	resp, _ := post(t, srv.URL()+"/api/42/envelope/", auth, []byte(envBody))
	if resp.StatusCode != 429 {
		t.Fatalf("got %d, want 429", resp.StatusCode)
	}
	if got := resp.Header.Get("Retry-After"); got != "30" {
		t.Errorf("got Retry-After %q, want 30", got)
	}
	if got := resp.Header.Get("X-Sentry-Rate-Limits"); got != "30:default;error:project" {
		t.Errorf("got X-Sentry-Rate-Limits %q, want 30:default;error:project", got)
	}
	if n := len(srv.Envelopes()); n != 0 {
		t.Errorf("got %d accepted envelopes, want 0", n)
	}
}

// TestEventSchema: event payloads of the wrong shape are refused, as
// Relay refuses them; sentry-go's own events pass (TestRealClientEnvelopeAccepted).
func TestEventSchema(t *testing.T) {
	srv := sentrytest.NewServer(t)
	auth := map[string]string{"X-Sentry-Auth": "Sentry sentry_key=" + sentrytest.PublicKey}
	const id = "9ec79c33ec9942ab8353589fcb2e04dc"
	env := func(payload string) []byte {
		return []byte(`{"event_id":"` + id + `"}` + "\n" + `{"type":"event"}` + "\n" + payload + "\n")
	}
	tests := []struct {
		name, payload string
		status        int
	}{
		{"full", `{"event_id":"` + id + `","timestamp":"2026-01-02T03:04:05.123Z","platform":"go","level":"fatal","tags":{"a":"b"},` +
			`"exception":{"values":[{"type":"T","value":"v","stacktrace":{"frames":[{"function":"f","lineno":3,"in_app":true}]},` +
			`"mechanism":{"type":"panic","handled":false,"exception_id":0}}]},"breadcrumbs":{"values":[{"level":"info","timestamp":1.5}]},` +
			`"request":{"headers":{"A":"b"}},"fingerprint":["x"],"contexts":{"trace":{"trace_id":"t"}}}`, 200},
		{"other event_id", `{"event_id":"00000000000000000000000000000000"}`, 400},
		{"bad level", `{"level":"catastrophic"}`, 400},
		{"bad timestamp", `{"timestamp":"yesterday"}`, 400},
		{"tag not a string", `{"tags":{"a":1}}`, 400},
		{"tag too long", `{"tags":{"a":"` + strings.Repeat("x", 201) + `"}}`, 400},
		{"exception without type or value", `{"exception":{"values":[{}]}}`, 400},
		{"frames not a list", `{"exception":[{"type":"T","stacktrace":{"frames":{}}}]}`, 400},
		{"breadcrumb data not an object", `{"breadcrumbs":[{"data":[1]}]}`, 400},
		{"header not a string", `{"request":{"headers":{"A":["b"]}}}`, 400},
		{"context not an object", `{"contexts":{"os":"linux"}}`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := post(t, srv.URL()+"/api/42/envelope/", auth, env(tt.payload))
			if resp.StatusCode != tt.status {
				t.Errorf("got status %d (%s), want %d", resp.StatusCode, body, tt.status)
			}
		})
	}
}

// TestPause: requests wait while the server is paused and are answered
// once it resumes.
func TestPause(t *testing.T) {
	srv := sentrytest.NewServer(t)
	srv.Pause()
	done := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/api/42/envelope/", strings.NewReader(envBody))
		req.Header.Set("X-Sentry-Auth", "Sentry sentry_key="+sentrytest.PublicKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	testutil.WaitFor(t, 5*time.Second, "the request to arrive", func() bool { return srv.Requests() > 0 })
	select {
	case code := <-done:
		t.Fatalf("got an answer (%d) while paused", code)
	default:
	}
	srv.Resume()
	if code := <-done; code != 200 {
		t.Errorf("got %d after Resume, want 200", code)
	}
}

// TestClientReportSchema: client_report items are parsed as strictly as
// the spec reads: known reasons and data categories, positive integer
// quantities, the two defined fields and nothing else.
func TestClientReportSchema(t *testing.T) {
	auth := map[string]string{"X-Sentry-Auth": "Sentry sentry_key=" + sentrytest.PublicKey}
	env := func(payload string) []byte {
		return []byte("{}\n" + `{"type":"client_report"}` + "\n" + payload + "\n")
	}
	entry := func(reason, category, quantity string) string {
		return `{"discarded_events":[{"reason":"` + reason + `","category":"` + category + `","quantity":` + quantity + `}]}`
	}
	tests := []struct {
		name, payload string
		status        int
	}{
		{"spec example", `{"timestamp":"2020-02-07T14:16:00Z","discarded_events":[{"reason":"queue_overflow","category":"error","quantity":23},` +
			`{"reason":"queue_overflow","category":"transaction","quantity":1321}]}`, 200},
		{"unix timestamp", `{"timestamp":1581084960.5,"discarded_events":[{"reason":"sample_rate","category":"error","quantity":1}]}`, 200},
		{"no timestamp", entry("ratelimit_backoff", "error", "5"), 200},
		{"every reason", `{"discarded_events":[` + strings.Join(func() []string {
			var out []string
			for _, r := range []string{"queue_overflow", "cache_overflow", "ratelimit_backoff", "network_error", "sample_rate",
				"before_send", "event_processor", "send_error", "internal_sdk_error", "insufficient_data", "backpressure",
				"buffer_overflow", "ignored", "invalid"} {
				out = append(out, `{"reason":"`+r+`","category":"error","quantity":1}`)
			}
			return out
		}(), ",") + `]}`, 200},
		{"unknown reason", entry("too_lazy", "error", "1"), 400},
		{"reason not a string", `{"discarded_events":[{"reason":1,"category":"error","quantity":1}]}`, 400},
		{"unknown category", entry("queue_overflow", "errors", "1"), 400},
		{"internal category", entry("queue_overflow", "internal", "1"), 400},
		{"zero quantity", entry("queue_overflow", "error", "0"), 400},
		{"negative quantity", entry("queue_overflow", "error", "-1"), 400},
		{"fractional quantity", entry("queue_overflow", "error", "1.5"), 400},
		{"quantity as a string", entry("queue_overflow", "error", `"3"`), 400},
		{"quantity beyond u32", entry("queue_overflow", "error", "4294967296"), 400},
		{"no quantity", `{"discarded_events":[{"reason":"queue_overflow","category":"error"}]}`, 400},
		{"unknown entry field", `{"discarded_events":[{"reason":"queue_overflow","category":"error","quantity":1,"why":"x"}]}`, 400},
		{"entry not an object", `{"discarded_events":[["queue_overflow","error",1]]}`, 400},
		{"no discarded_events", `{"timestamp":"2020-02-07T14:16:00Z"}`, 400},
		{"discarded_events not a list", `{"discarded_events":{"reason":"queue_overflow"}}`, 400},
		{"relay's outcome list", `{"discarded_events":[],"rate_limited_events":[{"reason":"x","category":"error","quantity":1}]}`, 400},
		{"unknown field", `{"discarded_events":[],"dropped":1}`, 400},
		{"bad timestamp", `{"timestamp":"yesterday","discarded_events":[]}`, 400},
		{"not an object", `[]`, 400},
		{"trailing data", entry("queue_overflow", "error", "1") + `{}`, 400},
		{"over 4 KiB", `{"discarded_events":[` + strings.Repeat(`{"reason":"queue_overflow","category":"error","quantity":1},`, 80) +
			`{"reason":"queue_overflow","category":"error","quantity":1}]}`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := sentrytest.NewServer(t)
			resp, body := post(t, srv.URL()+"/api/42/envelope/", auth, env(tt.payload))
			if resp.StatusCode != tt.status {
				t.Fatalf("got status %d (%s), want %d", resp.StatusCode, body, tt.status)
			}
			if tt.status != 200 {
				if n := len(srv.ClientReports()); n != 0 {
					t.Errorf("got %d client reports from a refused envelope", n)
				}
				return
			}
			if n := len(srv.ClientReports()); n != 1 {
				t.Errorf("got %d client reports, want 1", n)
			}
		})
	}
	t.Run("what it exposes", func(t *testing.T) {
		srv := sentrytest.NewServer(t)
		post(t, srv.URL()+"/api/42/envelope/", auth, env(tests[0].payload))
		post(t, srv.URL()+"/api/42/envelope/", auth, env(entry("queue_overflow", "error", "2")))
		reps := srv.ClientReports()
		if len(reps) != 2 || !reps[0].Timestamp.Equal(time.Date(2020, 2, 7, 14, 16, 0, 0, time.UTC)) || !reps[1].Timestamp.IsZero() {
			t.Fatalf("got reports %+v", reps)
		}
		if got := srv.Discarded("error"); len(got) != 1 || got["queue_overflow"] != 25 {
			t.Errorf("got error discards %v, want queue_overflow: 25", got)
		}
		if got := srv.Discarded("transaction"); got["queue_overflow"] != 1321 {
			t.Errorf("got transaction discards %v, want queue_overflow: 1321", got)
		}
	})
}

// TestRealClientReportAccepted: sentry-go's own client report (events
// dropped by BeforeSend, attached to the next envelope) passes.
func TestRealClientReportAccepted(t *testing.T) {
	srv := sentrytest.NewServer(t)
	c, err := sentry.NewClient(sentry.ClientOptions{Dsn: srv.DSN(), BeforeSend: func(e *sentry.Event, _ *sentry.EventHint) *sentry.Event {
		if e.Message == "drop" {
			return nil
		}
		return e
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.CaptureMessage("drop", nil, nil)
	c.CaptureMessage("drop", nil, nil)
	c.CaptureMessage("keep", nil, nil)
	if !c.Flush(5 * time.Second) {
		t.Fatal("flush timed out")
	}
	srv.WaitEvents(t, 1, 5*time.Second)
	if got := srv.Discarded("error"); got["before_send"] != 2 {
		t.Errorf("got error discards %v, want before_send: 2 (reports %+v)", got, srv.ClientReports())
	}
}

// TestRateLimitKeepsClientReports: as Relay does, a rate limit drops the
// limited items and keeps client reports: an envelope with something left
// is answered 200 with X-Sentry-Rate-Limits, an empty one 429.
func TestRateLimitKeepsClientReports(t *testing.T) {
	srv := sentrytest.NewServer(t)
	srv.SetRateLimit(&sentrytest.Limit{RetryAfter: 30, Scope: "organization"}) // all categories
	auth := map[string]string{"X-Sentry-Auth": "Sentry sentry_key=" + sentrytest.PublicKey}
	const report = `{"discarded_events":[{"reason":"sample_rate","category":"error","quantity":4}]}`
	body := `{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}` + "\n" +
		`{"type":"event"}` + "\n" + `{"exception":[{"type":"T","value":"v"}]}` + "\n" +
		`{"type":"attachment"}` + "\n" + "plain" + "\n" +
		`{"type":"client_report"}` + "\n" + report + "\n"
	resp, msg := post(t, srv.URL()+"/api/42/envelope/", auth, []byte(body))
	if resp.StatusCode != 200 {
		t.Fatalf("got %d (%s), want 200: the client report is kept", resp.StatusCode, msg)
	}
	if got := resp.Header.Get("X-Sentry-Rate-Limits"); got != "30::organization" {
		t.Errorf("got X-Sentry-Rate-Limits %q, want 30::organization", got)
	}
	if n := len(srv.Events()); n != 0 {
		t.Errorf("got %d accepted events under the limit, want 0", n)
	}
	env := srv.Envelopes()[0]
	if len(env.RateLimited) != 2 || env.RateLimited[0].Type != "event" || env.RateLimited[1].Type != "attachment" {
		t.Errorf("got rate-limited items %+v, want the event and its attachment", env.RateLimited)
	}
	if got := srv.Discarded("error"); got["sample_rate"] != 4 {
		t.Errorf("got discards %v, want the report kept", got)
	}
	only := `{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}` + "\n" + `{"type":"event"}` + "\n" + `{"exception":[{"type":"T"}]}` + "\n"
	if resp, msg := post(t, srv.URL()+"/api/42/envelope/", auth, []byte(only)); resp.StatusCode != 429 {
		t.Errorf("got %d (%s) for an envelope of limited items only, want 429", resp.StatusCode, msg)
	}
}

// TestHangUp: with SetHangUp, the client gets no answer, only a closed
// connection.
func TestHangUp(t *testing.T) {
	srv := sentrytest.NewServer(t)
	srv.SetHangUp(true)
	req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/api/42/envelope/", strings.NewReader(envBody))
	req.Header.Set("X-Sentry-Auth", "Sentry sentry_key="+sentrytest.PublicKey)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("got status %d, want a network error", resp.StatusCode)
	}
	srv.SetHangUp(false)
	auth := map[string]string{"X-Sentry-Auth": "Sentry sentry_key=" + sentrytest.PublicKey}
	if resp, _ := post(t, srv.URL()+"/api/42/envelope/", auth, []byte(envBody)); resp.StatusCode != 200 {
		t.Errorf("got %d after SetHangUp(false), want 200", resp.StatusCode)
	}
	if got := srv.Requests(); got != 2 {
		t.Errorf("got %d requests, want 2", got)
	}
}
