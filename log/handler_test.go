package log_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/internal/ecs"
	"github.com/glassbox-obs/glassbox/internal/testutil"
	gblog "github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/trace"
)

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer = testutil.Buffer

// logOne logs one record through a fresh handler and returns the decoded
// document and the raw line.
func logOne(t *testing.T, ctx context.Context, opts []gblog.Option, f func(*slog.Logger)) (map[string]any, string) {
	t.Helper()
	var buf bytes.Buffer
	f(slog.New(gblog.NewHandler(append(opts, gblog.WithWriter(&buf))...)))
	lines := parseLines(t, &buf)
	if len(lines) != 1 {
		t.Fatalf("got %d lines, want 1:\n%s", len(lines), buf.String())
	}
	return lines[0], buf.String()
}

func spanCtx() context.Context {
	sc := oteltrace.NewSpanContext(oteltrace.SpanContextConfig{
		TraceID: oteltrace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:  oteltrace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7}, TraceFlags: oteltrace.FlagsSampled,
	})
	return oteltrace.ContextWithSpanContext(context.Background(), sc)
}

func TestDocumentCarriesIDsAndServiceFields(t *testing.T) {
	ctx := trace.WithCorrelationID(spanCtx(), "order-7781")
	svc := gblog.Service{Name: "checkout", Version: "1.4.2", Environment: "prod", HostName: "web-1", Dataset: "checkout", Namespace: "eu"}
	doc, _ := logOne(t, ctx, []gblog.Option{gblog.WithService(svc), gblog.WithLoggerName("payments")}, func(l *slog.Logger) {
		l.InfoContext(ctx, "paid", "amount", 12.5)
	})
	want := map[string]any{
		"log.level": "info", "message": "paid", "ecs.version": gblog.ECSVersion, "log.logger": "payments",
		"service.name": "checkout", "service.version": "1.4.2", "service.environment": "prod", "host.name": "web-1",
		"event.dataset": "checkout", "data_stream.type": "logs", "data_stream.dataset": "checkout", "data_stream.namespace": "eu",
		"correlation.id": "order-7781", "trace.id": "4bf92f3577b34da6a3ce929d0e0e4736", "span.id": "00f067aa0ba902b7",
		"amount": 12.5,
	}
	for k, v := range want {
		if doc[k] != v {
			t.Errorf("%s: got %v, want %v", k, doc[k], v)
		}
	}
	ts, _ := doc["@timestamp"].(string)
	if _, err := time.Parse(time.RFC3339Nano, ts); err != nil || len(ts) != len("2006-01-02T15:04:05.000000000Z") {
		t.Errorf("@timestamp %q is not RFC 3339 with nanoseconds", ts)
	}
}

func TestNoIDsWithoutContext(t *testing.T) {
	doc, _ := logOne(t, context.Background(), nil, func(l *slog.Logger) { l.Info("x") })
	for _, k := range []string{"correlation.id", "trace.id", "span.id"} {
		if _, ok := doc[k]; ok {
			t.Errorf("%s present without a context that carries it", k)
		}
	}
}

func TestRedaction(t *testing.T) {
	doc, raw := logOne(t, context.Background(), []gblog.Option{gblog.WithRedactKeys("ssn")}, func(l *slog.Logger) {
		l.Info("login",
			"Password", "hunter2", "db_password", "pw1", "userPassword", "pw2", "Authorization", "Bearer abc",
			"x-api-key", "k1", "SSN", "123-45-6789", "session_id", "s1", "Set-Cookie", "c=1",
			slog.Group("token", slog.String("value", "t1")), "passwords_count", 3, "user", "ann")
	})
	for _, k := range []string{"Password", "db_password", "userPassword", "Authorization", "x-api-key", "SSN", "session_id", "Set-Cookie", "token"} {
		if doc[k] != gblog.Redacted {
			t.Errorf("%s: got %v, want %s", k, doc[k], gblog.Redacted)
		}
	}
	for _, secret := range []string{"hunter2", "pw1", "pw2", "Bearer abc", "k1", "123-45-6789", "s1", "c=1", "t1"} {
		if strings.Contains(raw, secret) {
			t.Errorf("secret %q leaked: %s", secret, raw)
		}
	}
	if doc["user"] != "ann" || doc["passwords_count"] != float64(3) {
		t.Errorf("non-secret fields changed: user=%v passwords_count=%v", doc["user"], doc["passwords_count"])
	}
}

func TestRedactorMatch(t *testing.T) {
	r := gblog.NewRedactor()
	for key, want := range map[string]bool{
		"password": true, "PASSWORD": true, "db_password": true, "db.password": true, "dbPassword": true,
		"password_hash": true, "api-key": true, "X-Api-Key": true, "apikey": true, "cookie": true,
		"credit_card_number": true, "card_number": true, "passwords": false, "user": false, "": false,
		"compassword": false, "tokenizer": false, "pwdx": false, "APIToken": true, "DBPassword": true,
		"XAPIKEY": false, "apiTokens": false,
	} {
		if got := r.Match(key); got != want {
			t.Errorf("Match(%q) = %v, want %v", key, got, want)
		}
	}
	var nilR *gblog.Redactor
	if nilR.Match("password") {
		t.Error("a nil Redactor redacted")
	}
	if only := gblog.NewRedactorOnly("pin"); only.Match("password") || !only.Match("PIN") {
		t.Error("NewRedactorOnly: want exactly the given names")
	}
}

type stackErr struct {
	msg string
	pcs []uintptr
}

func (e *stackErr) Error() string         { return e.msg }
func (e *stackErr) StackTrace() []uintptr { return e.pcs }
func (e *stackErr) LogValue() slog.Value  { return slog.GroupValue(slog.Int("order_id", 42)) }
func newStackErr(msg string) *stackErr {
	pcs := make([]uintptr, 16)
	return &stackErr{msg: msg, pcs: pcs[:runtime.Callers(1, pcs)]}
}

func TestErrorFields(t *testing.T) {
	t.Run("plain error", func(t *testing.T) {
		doc, _ := logOne(t, context.Background(), nil, func(l *slog.Logger) {
			l.Error("failed", "err", fmt.Errorf("charge: %w", errors.New("card declined")))
		})
		if doc["error.message"] != "charge: card declined" || doc["error.type"] != "*errors.errorString" {
			t.Errorf("got error.message=%v error.type=%v", doc["error.message"], doc["error.type"])
		}
		if _, ok := doc["error.stack_trace"]; ok {
			t.Error("stack_trace present for an error without a stack")
		}
	})
	t.Run("stack and attributes", func(t *testing.T) {
		e := newStackErr("boom")
		doc, _ := logOne(t, context.Background(), nil, func(l *slog.Logger) {
			l.Error("failed", "err", fmt.Errorf("wrapped: %w", e), "other", errors.New("second"))
		})
		st, _ := doc["error.stack_trace"].(string)
		if !strings.Contains(st, "TestErrorFields") || !strings.Contains(st, "handler_test.go:") {
			t.Errorf("error.stack_trace = %q, want the creating function and file:line", st)
		}
		if doc["error.type"] != "*log_test.stackErr" {
			t.Errorf("error.type = %v", doc["error.type"])
		}
		if doc["other"] != "second" {
			t.Errorf("second error: got %v, want its message under its key", doc["other"])
		}
	})
	t.Run("LogValuer attributes", func(t *testing.T) {
		doc, _ := logOne(t, context.Background(), nil, func(l *slog.Logger) { l.Error("failed", "err", newStackErr("boom")) })
		if doc["order_id"] != float64(42) || doc["error.message"] != "boom" {
			t.Errorf("got order_id=%v error.message=%v", doc["order_id"], doc["error.message"])
		}
	})
	t.Run("attributes of a wrapped error", func(t *testing.T) {
		doc, _ := logOne(t, context.Background(), nil, func(l *slog.Logger) {
			l.Error("failed", "err", fmt.Errorf("charge: %w", newStackErr("boom")))
		})
		if doc["order_id"] != float64(42) || doc["error.message"] != "charge: boom" {
			t.Errorf("got order_id=%v error.message=%v, want the inner error's attributes", doc["order_id"], doc["error.message"])
		}
		doc, _ = logOne(t, context.Background(), nil, func(l *slog.Logger) {
			l.Error("failed", "err", errors.Join(errors.New("first"), newStackErr("second")))
		})
		if doc["order_id"] != float64(42) {
			t.Errorf("joined errors: got order_id=%v, want 42", doc["order_id"])
		}
	})
	t.Run("nil error", func(t *testing.T) {
		var e *stackErr
		doc, _ := logOne(t, context.Background(), nil, func(l *slog.Logger) { l.Error("failed", "err", error(e)) })
		if v, ok := doc["err"]; !ok || v != nil {
			t.Errorf("got err=%v, want null", v)
		}
	})
}

func TestSinkSeesError(t *testing.T) {
	rec := &recordingSink{}
	l := slog.New(gblog.NewHandler(gblog.WithSink(rec)))
	want := errors.New("deep")
	l.WithGroup("req").Error("failed", "err", want)
	if len(rec.entries) != 1 || !errors.Is(rec.entries[0].Err, want) {
		t.Fatalf("Entry.Err: got %+v, want the logged error", rec.entries)
	}
}

type panicky struct{}

func (panicky) String() string               { panic("String") }
func (panicky) Error() string                { panic("Error") }
func (panicky) LogValue() slog.Value         { panic("LogValue") }
func (panicky) MarshalJSON() ([]byte, error) { panic("MarshalJSON") }

type marshalPanics struct{}

func (marshalPanics) MarshalJSON() ([]byte, error) { panic("MarshalJSON") }

type stringer struct{}

func (stringer) String() string { return "stringer-value" }

func TestValueKinds(t *testing.T) {
	tm := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	doc, raw := logOne(t, context.Background(), nil, func(l *slog.Logger) {
		l.Info("kinds",
			"s", "x", "i", -3, "u", uint64(1<<63), "f", 1.5, "nan", nan(), "b", true, "d", 1500*time.Millisecond,
			"t", tm, "bytes", []byte("text"), "bin", []byte{0xff, 0x00}, "stringer", stringer{},
			"struct", struct{ A int }{7}, "map", map[string]int{"k": 1}, "nilany", nil,
			"chan", make(chan int), "p1", panicky{}, "p2", marshalPanics{},
			slog.Group("g", slog.Int("a", 1), slog.Group("h", slog.Int("b", 2))), slog.Group("empty"),
			slog.Group("", slog.Int("inlined", 5)))
	})
	checks := map[string]any{
		"s": "x", "i": float64(-3), "u": float64(1 << 63), "f": 1.5, "nan": "NaN", "b": true, "d": float64(1.5e9),
		"t": "2026-01-02T03:04:05.000000006Z", "bytes": "text", "bin": "/wA=", "stringer": "stringer-value",
		"inlined": float64(5),
	}
	for k, want := range checks {
		if doc[k] != want {
			t.Errorf("%s: got %#v, want %#v", k, doc[k], want)
		}
	}
	if m, _ := doc["struct"].(map[string]any); m["A"] != float64(7) {
		t.Errorf("struct: got %v", doc["struct"])
	}
	if g, _ := doc["g"].(map[string]any); g["a"] != float64(1) || g["h"].(map[string]any)["b"] != float64(2) {
		t.Errorf("nested group: got %v", doc["g"])
	}
	if _, ok := doc["empty"]; ok {
		t.Error("empty group written")
	}
	// p1 is an error whose every method panics: it becomes the error.*
	// fields, with a description of the panic as its message.
	for _, k := range []string{"error.message", "p2"} {
		if s, _ := doc[k].(string); !strings.Contains(s, "PANIC") {
			t.Errorf("%s: got %v, want a panic description", k, doc[k])
		}
	}
	if _, ok := doc["chan"].(string); !ok {
		t.Errorf("chan: got %v, want a string fallback", doc["chan"])
	}
	if _, ok := doc["nilany"]; !ok {
		t.Error("nil value dropped")
	}
	_ = raw
}

var testTime = time.Date(2026, 11, 22, 8, 15, 0, 0, time.UTC)

func nan() float64 { z := 0.0; return z / z }

func TestKeysSafeForElasticsearch(t *testing.T) {
	doc, raw := logOne(t, context.Background(), nil, func(l *slog.Logger) {
		l.With("a", 1).Info("m", "message", "user message", "@timestamp", "fake", "a", 2, "a", 3,
			"", "empty key", "x..y", 1, ".lead", 2, "trail.", 3, "correlation.id", "spoofed")
	})
	// A JSON object with a repeated key is rejected by Elasticsearch: check
	// the raw line, since decoding into a map hides repeats.
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.Token()
	seen := map[string]bool{}
	for dec.More() {
		tok, _ := dec.Token()
		k := tok.(string)
		if seen[k] {
			t.Errorf("key %q repeated in %s", k, raw)
		}
		seen[k] = true
		var skip json.RawMessage
		dec.Decode(&skip)
	}
	if doc["message"] != "m" || doc["message_2"] != "user message" || doc["@timestamp_2"] != "fake" {
		t.Errorf("reserved keys: message=%v message_2=%v @timestamp_2=%v", doc["message"], doc["message_2"], doc["@timestamp_2"])
	}
	if doc["a"] != float64(1) || doc["a_2"] != float64(2) || doc["a_3"] != float64(3) {
		t.Errorf("duplicates: a=%v a_2=%v a_3=%v", doc["a"], doc["a_2"], doc["a_3"])
	}
	if _, ok := doc["correlation.id"]; ok {
		t.Error("a user attribute set correlation.id without a context ID")
	}
	for _, k := range []string{"_", "x._.y", "_.lead", "trail._"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("sanitised key %q missing in %s", k, raw)
		}
	}
}

func TestEmptyGroupsDropped(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(gblog.NewHandler(gblog.WithWriter(&buf)))
	l.WithGroup("a").WithGroup("b").Info("no attrs")
	l.WithGroup("a").With("x", 1).WithGroup("b").Info("outer only")
	lines := parseLines(t, &buf)
	if _, ok := lines[0]["a"]; ok {
		t.Errorf("empty groups written: %v", lines[0])
	}
	a, _ := lines[1]["a"].(map[string]any)
	if a["x"] != float64(1) || a["b"] != nil {
		t.Errorf("got %v, want a.x=1 and no a.b", lines[1]["a"])
	}
}

func TestDynamicLevel(t *testing.T) {
	var lv slog.LevelVar
	var buf bytes.Buffer
	l := slog.New(gblog.NewHandler(gblog.WithWriter(&buf), gblog.WithLevel(&lv)))
	l.Debug("hidden")
	lv.Set(slog.LevelDebug)
	l.Debug("shown")
	lines := parseLines(t, &buf)
	if len(lines) != 1 || lines[0]["message"] != "shown" || lines[0]["log.level"] != "debug" {
		t.Fatalf("got %v, want only the debug record after the level change", lines)
	}
	l.Log(context.Background(), slog.LevelInfo+2, "custom")
	if got := parseLines(t, &buf)[1]["log.level"]; got != "info+2" {
		t.Errorf("custom level: got %v, want info+2", got)
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]slog.Level{"debug": slog.LevelDebug, "INFO": slog.LevelInfo, "Warning": slog.LevelWarn,
		"warn": slog.LevelWarn, "error": slog.LevelError, "info+2": slog.LevelInfo + 2, "-8": slog.Level(-8)} {
		if got, err := gblog.ParseLevel(in); err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "verbose", "info+x"} {
		if _, err := gblog.ParseLevel(bad); err == nil {
			t.Errorf("ParseLevel(%q): want an error", bad)
		}
	}
}

type recordingSink struct {
	mu      sync.Mutex
	entries []gblog.Entry
	err     error
	closed  bool
}

func (s *recordingSink) Write(_ context.Context, e *gblog.Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := *e
	c.Doc = append([]byte(nil), e.Doc...)
	s.entries = append(s.entries, c)
	return s.err
}

func (s *recordingSink) Shutdown(context.Context) error { s.closed = true; return nil }

func TestFanOutSameBytesAndFailureIsolation(t *testing.T) {
	failing := &recordingSink{err: errors.New("disk full")}
	ok := &recordingSink{}
	var handled []error
	h := gblog.NewHandler(gblog.WithSink(failing), gblog.WithSink(ok),
		gblog.WithErrorHandler(errHandlerFunc(func(err error) { handled = append(handled, err) })))
	ctx := trace.WithCorrelationID(context.Background(), "c-1")
	if err := h.Handle(ctx, slog.NewRecord(time.Now(), slog.LevelWarn, "w", 0)); err != nil {
		t.Fatalf("Handle returned %v although one sink succeeded", err)
	}
	if len(ok.entries) != 1 || !bytes.Equal(ok.entries[0].Doc, failing.entries[0].Doc) {
		t.Fatal("sinks did not receive the same document")
	}
	e := ok.entries[0]
	if e.Level != slog.LevelWarn || e.Message != "w" || e.IDs.CorrelationID != "c-1" || e.Untimed || !bytes.HasPrefix(e.Doc, []byte(`{"@timestamp":"`)) {
		t.Errorf("entry metadata: %+v", e)
	}
	if len(handled) != 1 || !strings.Contains(handled[0].Error(), "disk full") {
		t.Errorf("error handler got %v, want the sink's error", handled)
	}
	if err := h.Shutdown(context.Background()); err != nil || !failing.closed || !ok.closed {
		t.Errorf("Shutdown: err=%v closed=%v,%v", err, failing.closed, ok.closed)
	}
}

// A record without a time: slog says a handler writes no time, so the
// writer leaves @timestamp out; the Entry's Doc still has one (the time
// it was handled), complete for the sinks that ship it.
func TestZeroTimeOmitsTimestamp(t *testing.T) {
	rec := &recordingSink{}
	var buf bytes.Buffer
	h := gblog.NewHandler(gblog.WithSink(rec), gblog.WithSink(gblog.NewWriterSink(&buf, gblog.FormatJSON)))
	before := time.Now()
	h.Handle(context.Background(), slog.NewRecord(time.Time{}, slog.LevelInfo, "m", 0))
	e := rec.entries[0]
	if !e.Untimed || e.Time.Before(before) || e.Time.After(time.Now()) {
		t.Errorf("got Entry.Untimed %v, Entry.Time %v; want true and the time it was handled", e.Untimed, e.Time)
	}
	want := `{"@timestamp":"` + e.Time.UTC().Format("2006-01-02T15:04:05.000000000Z") + `","log.level":"info","message":"m","ecs.version":`
	if !bytes.HasPrefix(e.Doc, []byte(want)) {
		t.Errorf("got Doc %s, want it to begin %s", e.Doc, want)
	}
	if got := buf.String(); got != `{"log.level":"info","message":"m","ecs.version":"8.11.0"}`+"\n" {
		t.Errorf("writer output %q, want the document without @timestamp", got)
	}
}

type errHandlerFunc func(error)

func (f errHandlerFunc) Handle(err error) { f(err) }

func TestConcurrentLinesNeverInterleave(t *testing.T) {
	var buf syncBuffer
	l := slog.New(gblog.NewHandler(gblog.WithWriter(&buf)))
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			ll := l.With("g", g)
			for i := 0; i < 200; i++ {
				ll.Info("line", "i", i, "pad", strings.Repeat("x", g*50))
			}
		}(g)
	}
	wg.Wait()
	lines := bytes.Split(bytes.TrimRight(buf.Bytes(), "\n"), []byte("\n"))
	if len(lines) != 1600 {
		t.Fatalf("got %d lines, want 1600", len(lines))
	}
	for _, line := range lines {
		if !json.Valid(line) {
			t.Fatalf("interleaved or invalid line: %s", line)
		}
	}
}

func TestTextFormat(t *testing.T) {
	var buf bytes.Buffer
	ctx := trace.WithCorrelationID(context.Background(), "c-42")
	l := slog.New(gblog.NewHandler(gblog.WithSink(gblog.NewWriterSink(&buf, gblog.FormatText))))
	l.ErrorContext(ctx, "payment\nfailed", "user", "ann lee", "evil", "\x1b[31mred", "c1", "\u009b31m", "bidi", "abc\u202edcba\u2066", "sep", "a\u2028b\rc", "err", newStackErr("declined"), slog.Group("card", "brand", "visa"))
	out := buf.String()
	first, rest, _ := strings.Cut(out, "\n")
	for _, want := range []string{"ERROR", `"payment\nfailed"`, `user="ann lee"`, "correlation.id=c-42", "card.brand=visa", "error.message=declined"} {
		if !strings.Contains(first, want) {
			t.Errorf("text line %q lacks %q", first, want)
		}
	}
	for _, bad := range []string{"\x1b", "\u009b", "\u202e", "\u2066", "\u2028", "\r"} {
		if strings.Contains(out, bad) {
			t.Errorf("raw %q in text output: %q", bad, out)
		}
	}
	if !strings.Contains(rest, "TestTextFormat") {
		t.Errorf("stack trace not rendered below the line: %q", rest)
	}
}

// FuzzHandler feeds hostile keys, values, messages and record times (zero,
// before 1970, after 2262) through every place a key goes: a group, a
// pre-encoded attribute, a record attribute, a nested group, a map and a
// struct. Every document must be one safe line of JSON that keeps the
// message and the value, and that the strict test server stores under the
// shipped templates.
func FuzzHandler(f *testing.F) {
	for _, s := range []string{"", "plain", "crlf\r\ninjected", "nul\x00", "ansi\x1b[2J\x1b[31m", "sep\u2028\u2029",
		"bad\xff\xfeutf8", "quote\"\\", "a.b", "..", "message", "password", strings.Repeat("z", 200),
		" ", "\t", "\x1c", "\u3000", "a. .b", "a..b", "_id", "@timestamp", "event.start"} {
		f.Add(s, s, s, int64(1767225600), uint32(0))
	}
	for _, sec := range []int64{0, -1, -2208988800, 9223372036, 9223372037, 10413792000, -62135596800, 253402300800} {
		f.Add(" ", "v", "m", sec, uint32(999999999))
	}
	f.Add("k", "v", "zero time", int64(-62135596800), uint32(0)) // time.Time{}
	srv := shippedServer(f)
	f.Fuzz(func(t *testing.T, key, value, msg string, sec int64, nsec uint32) {
		var buf bytes.Buffer
		docs := &docSink{}
		h := gblog.NewHandler(gblog.WithWriter(&buf), gblog.WithSink(docs), gblog.WithRedactor(nil))
		rt := time.Unix(sec, int64(nsec%1e9))
		if sec == -62135596800 && nsec == 0 {
			rt = time.Time{}
		}
		r := slog.NewRecord(rt, slog.LevelInfo, msg, 0)
		r.AddAttrs(slog.String(key, value), slog.Group(key, slog.String(key, value), slog.String(key+" ", value)),
			slog.Any(key, map[string]string{key: value, key + ".": value, " ": value, "": value}),
			slog.Any("st", struct {
				A string `json:" "`
				B string `json:""`
			}{value, value}))
		if err := h.WithGroup(key).WithAttrs([]slog.Attr{slog.String(key, value), slog.String(key, value)}).Handle(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		out := buf.Bytes()
		if bytes.Count(out, []byte("\n")) != 1 || out[len(out)-1] != '\n' {
			t.Fatalf("not exactly one line: %q", out)
		}
		if !utf8.Valid(out) || bytes.ContainsAny(out, "\r\x00\x1b\u2028\u2029") {
			t.Fatalf("unsafe bytes in %q", out)
		}
		var doc map[string]any
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatalf("invalid JSON %q: %v", out, err)
		}
		if got, want := doc["message"], replaceEach(msg); got != want {
			t.Fatalf("message: got %q, want %q", got, want)
		}
		// The value must survive somewhere in the document, whatever the key
		// became.
		if !containsString(doc, replaceEach(value)) {
			t.Fatalf("value %q lost in %s", value, out)
		}
		if err := srv.Create("logs-fuzz-default", docs.last(t)); err != nil {
			t.Fatalf("document rejected: %v\n%s", err, docs.last(t))
		}
	})
}

func containsString(v any, s string) bool {
	switch v := v.(type) {
	case string:
		return v == s
	case map[string]any:
		for _, x := range v {
			if containsString(x, s) {
				return true
			}
		}
	}
	return false
}

// replaceEach is what a JSON round trip makes of s: encoding/json, the
// reference, replaces each invalid UTF-8 byte with U+FFFD.
func replaceEach(s string) string {
	b, _ := json.Marshal(s)
	var out string
	_ = json.Unmarshal(b, &out)
	return out
}

func TestEveryReservedKeyIsProtected(t *testing.T) {
	for _, k := range append(ecs.LogFields(), ecs.MetadataFields()...) {
		doc, _ := logOne(t, context.Background(), nil, func(l *slog.Logger) { l.Info("m", k, "user value") })
		if doc[k+"_2"] != "user value" || doc[k] == "user value" {
			t.Errorf("user attribute %q: got %v under %q and %v under %q, want it moved to %q",
				k, doc[k], k, doc[k+"_2"], k+"_2", k+"_2")
		}
	}
}

// Every top-level field the handler writes itself is in ecs.LogFields (so
// a user attribute cannot repeat it) or is an error.* field (written
// through the same key rules as attributes).
func TestHandlerWritesOnlyReservedFields(t *testing.T) {
	reserved := map[string]bool{}
	for _, k := range ecs.LogFields() {
		reserved[k] = true
	}
	sink := &docSink{}
	h := gblog.NewHandler(gblog.WithSink(sink), gblog.WithSource(true), gblog.WithLoggerName("l"),
		gblog.WithService(gblog.Service{Name: "s", Version: "v", Environment: "e", HostName: "h", Dataset: "d", Namespace: "n"}))
	r := slog.NewRecord(time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), slog.LevelError, "m", 0)
	r.PC = callerPC()
	r.AddAttrs(slog.Any("err", newStackErr("e")))
	if err := h.Handle(trace.WithCorrelationID(spanCtx(), "c-1"), r); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(sink.last(t), &doc); err != nil {
		t.Fatal(err)
	}
	for k := range doc {
		if !reserved[k] && !strings.HasPrefix(k, "error.") && k != "order_id" {
			t.Errorf("the handler writes %q, which ecs.LogFields lacks", k)
		}
	}
	for _, k := range []string{"log.origin.function", "log.logger", "data_stream.namespace", "event.start", "span.id"} {
		if doc[k] == nil {
			t.Errorf("document lacks %s: %v", k, doc)
		}
	}
}

func callerPC() uintptr {
	var pcs [1]uintptr
	runtime.Callers(2, pcs[:])
	return pcs[0]
}

type account struct {
	User     string              `json:"user"`
	Password string              `json:"password"`
	APIToken string              // encoding/json key "APIToken": matches "token" at a word boundary
	Nested   map[string]any      `json:"nested"`
	List     []map[string]string `json:"list"`
}

func TestRedactionInsideStructsAndMaps(t *testing.T) {
	v := account{
		User: "ann", Password: "hunter2", APIToken: "tok123",
		Nested: map[string]any{"Authorization": "Bearer abc", "cookie": map[string]string{"sid": "s1"}, "ok": "visible \"quoted\" {x}"},
		List:   []map[string]string{{"secret": "s3cr3t", "name": "n1"}},
	}
	doc, raw := logOne(t, context.Background(), nil, func(l *slog.Logger) {
		l.Info("m", "account", v, "headers", map[string][]string{"Set-Cookie": {"a=1"}, "Accept": {"json"}})
	})
	for _, secret := range []string{"hunter2", "tok123", "Bearer abc", "s1", "s3cr3t", "a=1"} {
		if strings.Contains(raw, secret) {
			t.Errorf("secret %q leaked: %s", secret, raw)
		}
	}
	acc, _ := doc["account"].(map[string]any)
	nested, _ := acc["nested"].(map[string]any)
	list, _ := acc["list"].([]any)
	if acc["user"] != "ann" || acc["password"] != gblog.Redacted || acc["APIToken"] != gblog.Redacted ||
		nested["Authorization"] != gblog.Redacted || nested["cookie"] != gblog.Redacted || nested["ok"] != `visible "quoted" {x}` ||
		len(list) != 1 || list[0].(map[string]any)["secret"] != gblog.Redacted || list[0].(map[string]any)["name"] != "n1" {
		t.Errorf("got %s", raw)
	}
	if h, _ := doc["headers"].(map[string]any); h["Set-Cookie"] != gblog.Redacted || h["Accept"].([]any)[0] != "json" {
		t.Errorf("headers map: got %v", doc["headers"])
	}
}

// Concurrent JSON records written straight to an *os.File (no mutex of
// ours) must still come out as whole lines.
func TestConcurrentLinesToFileNeverInterleave(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	l := slog.New(gblog.NewHandler(gblog.WithSink(gblog.NewWriterSink(f, gblog.FormatJSON))))
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				l.Info("line", "g", g, "i", i, "pad", strings.Repeat("x", 5000*(i%3)))
			}
		}(g)
	}
	wg.Wait()
	f.Close()
	data, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	if len(lines) != 1600 {
		t.Fatalf("got %d lines, want 1600", len(lines))
	}
	for _, line := range lines {
		if !json.Valid(line) {
			t.Fatalf("interleaved or invalid line of %d bytes", len(line))
		}
	}
}

// deadlineSink's Shutdown and Flush report whether the deadline had
// already passed when they were called; hang makes them wait for it.
type deadlineSink struct {
	hang    bool
	expired chan bool
}

func (s *deadlineSink) Write(context.Context, *gblog.Entry) error { return nil }
func (s *deadlineSink) Flush(ctx context.Context) error           { return s.call(ctx) }
func (s *deadlineSink) Shutdown(ctx context.Context) error        { return s.call(ctx) }
func (s *deadlineSink) call(ctx context.Context) error {
	s.expired <- ctx.Err() != nil
	if s.hang {
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

// TestSinksShutDownSideBySide: a sink whose backend hangs until the
// deadline does not use up the time of the sinks after it; each gets the
// caller's deadline whole, in Flush and in Shutdown.
func TestSinksShutDownSideBySide(t *testing.T) {
	hung := &deadlineSink{hang: true, expired: make(chan bool, 2)}
	next := &deadlineSink{expired: make(chan bool, 2)}
	h := gblog.NewHandler(gblog.WithWriter(nil), gblog.WithSink(hung), gblog.WithSink(next))
	for name, call := range map[string]func(context.Context) error{"Flush": h.Flush, "Shutdown": h.Shutdown} {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := call(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: got %v, want the hung sink's deadline error", name, err)
		}
		if hungLate, nextLate := <-hung.expired, <-next.expired; hungLate || nextLate {
			t.Errorf("%s: a sink was called after the deadline had passed, want each called with the deadline ahead", name)
		}
	}
}
