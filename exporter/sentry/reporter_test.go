package sentry_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glassbox-obs/glassbox/errors"
	gbsentry "github.com/glassbox-obs/glassbox/exporter/sentry"
	"github.com/glassbox-obs/glassbox/internal/kibana"
	"github.com/glassbox-obs/glassbox/internal/sentrytest"
	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/middleware"
)

// Secrets that must not appear anywhere in what is sent.
const (
	secretAuth    = "Bearer s3cr3t-auth-AAA"
	secretCookie  = "sess-cookie-BBB"
	secretQuery   = "qtoken-CCC"
	secretAPIKey  = "apikey-DDD"
	secretAttr    = "hunter2-EEE"
	secretBodyPwd = "bodypwd-FFF"
	clientIP      = "203.0.113.77"
	forwardedIP   = "198.51.100.99"
)

func hostileRequest() *http.Request {
	req := httptest.NewRequest(http.MethodPost, "http://shop.example/orders/981?token="+secretQuery+"&page=2", nil)
	req.RemoteAddr = clientIP + ":5555"
	req.Header.Set("Authorization", secretAuth)
	req.Header.Set("Cookie", "session="+secretCookie+"; theme=dark")
	req.Header.Set("X-Api-Key", secretAPIKey)
	req.Header.Set("X-Forwarded-For", forwardedIP)
	req.Header.Set("User-Agent", "curl/8")
	req.Pattern = "POST /orders/{id}"
	return req
}

func chargeCard(orderID int) error {
	return errors.With(errors.New(fmt.Sprintf("card declined for order %d", orderID)), "order_id", orderID, "password", secretAttr)
}

func TestEventContents(t *testing.T) {
	srv := sentrytest.NewServer(t)
	rep := newReporter(t, srv, gbsentry.WithKibanaURL("https://kibana.example/s/ops/"))
	lg := logger(rep)

	hreq := hostileRequest()
	req := &middleware.Request{Protocol: "http", HTTP: hreq, Method: "POST", CorrelationID: "corr-123"}
	ctx := rep.Begin(requestCtx("corr-123"), req)

	lg.InfoContext(ctx, "loading cart", "items", 3)
	lg.WarnContext(ctx, "slow inventory", "ms", 900, "password", secretAttr)
	err := errors.Wrap(chargeCard(981), "checkout")
	lg.ErrorContext(ctx, "checkout failed", "err", err)

	req.Route = "/orders/{id}"
	id := rep.End(ctx, req, &middleware.Outcome{Status: 500})
	if id == "" {
		t.Fatal("got no event ID, want one")
	}
	ev := events(t, rep, srv, 1)[0]
	if got := ev["event_id"]; got != id {
		t.Errorf("got event_id %v, want %s", got, id)
	}
	for _, tc := range []struct {
		path []string
		want string
	}{
		{[]string{"tags", "correlation_id"}, "corr-123"},
		{[]string{"tags", "trace_id"}, testTraceID.String()},
		{[]string{"tags", "service"}, "checkout"},
		{[]string{"tags", "http.status_code"}, "500"},
		{[]string{"contexts", "trace", "trace_id"}, testTraceID.String()},
		{[]string{"contexts", "trace", "span_id"}, testSpanID.String()},
		{[]string{"contexts", "logs", "correlation_id"}, "corr-123"},
		{[]string{"transaction"}, "POST /orders/{id}"},
		{[]string{"request", "method"}, "POST"},
		{[]string{"request", "url"}, "http://shop.example/orders/981"},
		{[]string{"request", "headers", "Authorization"}, "[REDACTED]"},
		{[]string{"request", "headers", "X-Api-Key"}, "[REDACTED]"},
		{[]string{"contexts", "error", "password"}, "[REDACTED]"},
	} {
		if got := str(ev, tc.path...); got != tc.want {
			t.Errorf("got %s = %q, want %q", strings.Join(tc.path, "."), got, tc.want)
		}
	}
	link, err := kibana.ParseDiscoverURL(str(ev, "contexts", "logs", "kibana_discover"))
	if err != nil {
		t.Errorf("kibana link: %v", err)
	} else if evTime, _ := time.Parse(time.RFC3339Nano, str(ev, "timestamp")); evTime.IsZero() || link.Base != "https://kibana.example/s/ops" ||
		link.CorrelationID != "corr-123" || link.DataViewID != kibana.LogsDataViewID ||
		!link.From.Equal(evTime.Add(-time.Hour).Truncate(time.Millisecond)) || !link.To.Equal(evTime.Add(15*time.Minute).Truncate(time.Millisecond)) {
		t.Errorf("got kibana link %+v for an event at %v, want corr-123 in the logs data view, 1 h before to 15 min after", link, evTime)
	}
	if got := ev["contexts"].(map[string]any)["error"].(map[string]any)["order_id"]; got != float64(981) {
		t.Errorf("got error context order_id %v, want 981", got)
	}
	if got := str(ev, "request", "query_string"); !strings.Contains(got, "token=[REDACTED]") || !strings.Contains(got, "page=2") {
		t.Errorf("got query_string %q, want token redacted and page kept", got)
	}
	if got := str(ev, "request", "cookies"); got != "session=[REDACTED]; theme=[REDACTED]" {
		t.Errorf("got cookies %q", got)
	}
	if got := str(ev, "user", "ip_address"); got != "" {
		t.Errorf("got user.ip_address %q, want none without WithUserIP", got)
	}
	// Breadcrumbs: the request's records, oldest first.
	crumbs := breadcrumbMessages(ev)
	if strings.Join(crumbs, "|") != "loading cart|slow inventory|checkout failed" {
		t.Errorf("got breadcrumbs %q", crumbs)
	}
	// The exception chain: the logged error's, root cause first, each
	// with its frames.
	exc := exceptions(t, ev)
	// errors.With layers repeat their cause's message; they are left out.
	if len(exc) != 2 {
		t.Fatalf("got %d exceptions, want 2 (Wrap, New)", len(exc))
	}
	m0, _ := exc[0]["mechanism"].(map[string]any)
	m1, _ := exc[1]["mechanism"].(map[string]any)
	if m0["exception_id"] != float64(1) || m0["parent_id"] != float64(0) || m1["exception_id"] != float64(0) || m1["parent_id"] != nil {
		t.Errorf("got mechanisms %v, %v, want the root (1) linked to the outer error (0)", m0, m1)
	}
	if got := exc[0]["value"]; got != "card declined for order 981" {
		t.Errorf("got root value %v", got)
	}
	for _, i := range []int{0, 1} {
		fr := frames(exc[i])
		if len(fr) == 0 {
			t.Fatalf("exception %d has no frames", i)
		}
		last := fr[len(fr)-1]
		if !strings.HasSuffix(str(last, "abs_path"), "reporter_test.go") || last["in_app"] != true {
			t.Errorf("exception %d: got innermost frame %v, want in-app reporter_test.go", i, last)
		}
	}
	if fp := fingerprint(ev); !strings.Contains(fp, "chargeCard") {
		t.Errorf("got fingerprint %s, want the crash site", fp)
	}
	// Nothing secret anywhere in the bytes sent.
	for _, env := range srv.Envelopes() {
		for _, s := range []string{secretAuth, secretCookie, secretQuery, secretAPIKey, secretAttr, clientIP, forwardedIP} {
			if bytes.Contains(env.Raw, []byte(s)) {
				t.Errorf("envelope contains %q", s)
			}
		}
	}
}

func TestUserIPOptIn(t *testing.T) {
	srv := sentrytest.NewServer(t)
	rep := newReporter(t, srv, gbsentry.WithUserIP(true))
	req := &middleware.Request{Protocol: "http", HTTP: hostileRequest(), Method: "POST"}
	ctx := rep.Begin(context.Background(), req)
	rep.End(ctx, req, &middleware.Outcome{Status: 502})
	ev := events(t, rep, srv, 1)[0]
	if got := str(ev, "user", "ip_address"); got != clientIP {
		t.Errorf("got user.ip_address %q, want %s", got, clientIP)
	}
	if got := str(ev, "request", "headers", "X-Forwarded-For"); got != forwardedIP {
		t.Errorf("got X-Forwarded-For %q, want %s", got, forwardedIP)
	}
}

// TestBreadcrumbsOfThisRequestOnly: concurrent requests keep their own
// trails, bounded to the most recent records.
func TestBreadcrumbsOfThisRequestOnly(t *testing.T) {
	srv := sentrytest.NewServer(t)
	rep := newReporter(t, srv, gbsentry.WithMaxBreadcrumbs(5), gbsentry.WithAggregationWindow(0))
	lg := logger(rep)
	var wg sync.WaitGroup
	ids := make([]string, 4)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := &middleware.Request{Protocol: "http", Method: "GET", Route: "/r", CorrelationID: fmt.Sprintf("req-%d", i)}
			ctx := rep.Begin(requestCtx(req.CorrelationID), req)
			for j := range 20 {
				lg.InfoContext(ctx, fmt.Sprintf("req-%d step %d", i, j))
			}
			ids[i] = rep.End(ctx, req, &middleware.Outcome{Status: 500})
		}()
	}
	wg.Wait()
	evs := events(t, rep, srv, 4)
	for _, ev := range evs {
		corr := str(ev, "tags", "correlation_id")
		crumbs := breadcrumbMessages(ev)
		want := []string{corr + " step 15", corr + " step 16", corr + " step 17", corr + " step 18", corr + " step 19"}
		if strings.Join(crumbs, "|") != strings.Join(want, "|") {
			t.Errorf("%s: got breadcrumbs %q, want %q", corr, crumbs, want)
		}
	}
}

func TestPanicEvent(t *testing.T) {
	srv := sentrytest.NewServer(t)
	rep := newReporter(t, srv)
	req := &middleware.Request{Protocol: "http", Method: "GET", Route: "/boom"}
	ctx := rep.Begin(context.Background(), req)
	var stack []byte
	var val any
	var panicLine int
	func() {
		defer func() { val = recover(); stack = debug.Stack() }()
		_, _, panicLine, _ = runtime.Caller(0)
		var m map[string]int
		m["x"] = 1 // panics: the line after Caller
	}()
	id := rep.End(ctx, req, &middleware.Outcome{Status: 500, Panic: val, Stack: stack})
	ev := events(t, rep, srv, 1)[0]
	if ev["event_id"] != id || ev["level"] != "fatal" {
		t.Errorf("got event_id %v level %v, want %s fatal", ev["event_id"], ev["level"], id)
	}
	exc := exceptions(t, ev)
	top := exc[len(exc)-1]
	mech, _ := top["mechanism"].(map[string]any)
	if mech["handled"] != false || mech["type"] != "panic" {
		t.Errorf("got mechanism %v, want unhandled panic", mech)
	}
	fr := frames(top)
	if len(fr) == 0 {
		t.Fatal("got no frames")
	}
	last := fr[len(fr)-1]
	if int(last["lineno"].(float64)) != panicLine+2 || !strings.HasSuffix(str(last, "abs_path"), "reporter_test.go") {
		t.Errorf("got crash frame %v:%v, want reporter_test.go:%d", last["abs_path"], last["lineno"], panicLine+2)
	}
}

type panickyErr struct{}

func (panickyErr) Error() string { panic("Error() exploded") }

// TestOddInputNeverPanics: nil contexts, nil requests, nil entries and
// errors whose Error method panics are survived.
func TestOddInputNeverPanics(t *testing.T) {
	srv := sentrytest.NewServer(t)
	rep := newReporter(t, srv)
	//lint:ignore SA1012 nil contexts are what this test is about
	ctx := rep.Begin(nil, nil) //nolint:staticcheck
	if ctx == nil {
		t.Fatal("got nil context")
	}
	if id := rep.End(ctx, nil, nil); id != "" {
		t.Errorf("got event %q for an empty outcome", id)
	}
	if err := rep.Write(nil, nil); err != nil { //nolint:staticcheck
		t.Errorf("got %v", err)
	}
	if id := rep.Report(nil, nil); id != "" { //nolint:staticcheck
		t.Errorf("got event %q for a nil error", id)
	}
	if id := gbsentry.Report(context.Background(), errors.New("outside")); id != "" {
		t.Errorf("got event %q outside a request, want none", id)
	}
	// An error whose Error method panics is still reported, with a
	// message saying so.
	if id := rep.Report(context.Background(), panickyErr{}); id == "" {
		t.Error("got no event for an error whose Error panics")
	}
	evs := events(t, rep, srv, 1)
	if exc := exceptions(t, evs[0]); len(exc) != 1 || !strings.HasPrefix(str(exc[0], "value"), "!PANIC in Error(): Error() exploded") {
		t.Errorf("got exceptions %v, want the panic's message", exc)
	}
	big := strings.Repeat("x", 10<<10)
	lg := logger(rep)
	req := &middleware.Request{Protocol: "http", Method: "GET", Route: "/big"}
	ctx = rep.Begin(context.Background(), req)
	lg.InfoContext(ctx, "huge", "blob", big)
	rep.End(ctx, req, &middleware.Outcome{Status: 500})
	evs = events(t, rep, srv, 2)
	if got := breadcrumbMessages(evs[1]); len(got) != 1 || got[0] != "huge" {
		t.Errorf("got breadcrumbs %q, want the message of the oversized record", got)
	}
	if bytes.Contains(srv.Envelopes()[1].Raw, []byte(big)) {
		t.Error("oversized record sent whole")
	}
}

// TestWithKeepsEveryStack: every error of the chain that carries a stack
// keeps it in the event, whatever errors.With layers surround it and
// however the error is reported.
func TestWithKeepsEveryStack(t *testing.T) {
	var rootLine, wrapLine int
	mk := func() error {
		_, _, rootLine, _ = runtime.Caller(0)
		root := errors.New("root") // rootLine+1
		_, _, wrapLine, _ = runtime.Caller(0)
		return errors.With(errors.With(errors.Wrap(root, "charge"), "order_id", 7), "user", "u1") // wrapLine+1
	}
	tests := []struct {
		name   string
		report func(rep *gbsentry.Reporter, ctx context.Context, req *middleware.Request, err error)
	}{
		{"logged, then 500", func(rep *gbsentry.Reporter, ctx context.Context, req *middleware.Request, err error) {
			logger(rep).ErrorContext(ctx, "failed", "err", err)
			rep.End(ctx, req, &middleware.Outcome{Status: 500})
		}},
		{"Report", func(rep *gbsentry.Reporter, ctx context.Context, req *middleware.Request, err error) {
			rep.Report(ctx, err)
			rep.End(ctx, req, &middleware.Outcome{Status: 200})
		}},
		{"panic", func(rep *gbsentry.Reporter, ctx context.Context, req *middleware.Request, err error) {
			rep.End(ctx, req, &middleware.Outcome{Status: 500, Panic: err, Stack: debug.Stack()})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := sentrytest.NewServer(t)
			rep := newReporter(t, srv)
			req := &middleware.Request{Protocol: "http", Method: "GET", Route: "/charge", CorrelationID: "c1"}
			ctx := rep.Begin(requestCtx("c1"), req)
			tt.report(rep, ctx, req, mk())
			exc := exceptions(t, events(t, rep, srv, 1)[0])
			if len(exc) != 2 {
				t.Fatalf("got %d exceptions, want 2 (New, Wrap; With folded away)", len(exc))
			}
			for i, want := range []int{rootLine + 1, wrapLine + 1} {
				fr := frames(exc[i])
				if len(fr) == 0 {
					t.Fatalf("exception %d (%v) has no stack", i, exc[i]["value"])
				}
				last := fr[len(fr)-1]
				if got := int(last["lineno"].(float64)); got != want || !strings.HasSuffix(str(last, "abs_path"), "reporter_test.go") {
					t.Errorf("exception %d: got innermost frame %v:%v, want reporter_test.go:%d", i, last["abs_path"], last["lineno"], want)
				}
			}
		})
	}
}

// TestOddValuesKeepTheEvent: values JSON cannot hold (a NaN attribute, a
// record time past year 9999) are written as the logs write them, or
// left out; they never cost the event.
func TestOddValuesKeepTheEvent(t *testing.T) {
	srv := sentrytest.NewServer(t)
	rep := newReporter(t, srv, gbsentry.WithAggregationWindow(0))
	req := &middleware.Request{Protocol: "http", Method: "GET", Route: "/odd", CorrelationID: "odd-1"}
	ctx := rep.Begin(requestCtx("odd-1"), req)
	_ = rep.Write(ctx, &log.Entry{Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), Level: slog.LevelInfo, Message: "from the future"})
	err := errors.With(errors.New("ratio out of range"), "ratio", math.NaN(), "max", math.Inf(1), "min", math.Inf(-1))
	gbsentry.Report(ctx, err)
	rep.End(ctx, req, &middleware.Outcome{Status: 500})
	ev := events(t, rep, srv, 1)[0]
	for key, want := range map[string]string{"ratio": "NaN", "max": "+Inf", "min": "-Inf"} {
		if got := str(ev, "contexts", "error", key); got != want {
			t.Errorf("got contexts.error.%s = %q, want %q", key, got, want)
		}
	}
	if got := breadcrumbMessages(ev); !contains(got, "from the future") {
		t.Errorf("got breadcrumbs %q, want the record with the odd time", got)
	}
	if st := rep.Stats(); st.Sent != 1 || st.Dropped != 0 {
		t.Errorf("got %+v, want the event sent", st)
	}
}
