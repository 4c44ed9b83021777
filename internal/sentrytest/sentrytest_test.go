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
	srv.SetRateLimit(&sentrytest.Limit{RetryAfter: 30, Categories: []string{"error"}, Scope: "project"})
	auth := map[string]string{"X-Sentry-Auth": "Sentry sentry_key=" + sentrytest.PublicKey}
	resp, _ := post(t, srv.URL()+"/api/42/envelope/", auth, []byte(envBody))
	if resp.StatusCode != 429 {
		t.Fatalf("got %d, want 429", resp.StatusCode)
	}
	if got := resp.Header.Get("Retry-After"); got != "30" {
		t.Errorf("got Retry-After %q, want 30", got)
	}
	if got := resp.Header.Get("X-Sentry-Rate-Limits"); got != "30:error:project" {
		t.Errorf("got X-Sentry-Rate-Limits %q, want 30:error:project", got)
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
