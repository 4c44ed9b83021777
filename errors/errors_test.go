package errors_test

import (
	"bytes"
	"encoding/json"
	stderrors "errors"
	"fmt"
	"io/fs"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/getsentry/sentry-go"
	"go.uber.org/goleak"

	"github.com/glassbox-obs/glassbox/errors"
	"github.com/glassbox-obs/glassbox/internal/sentrytest"
	"github.com/glassbox-obs/glassbox/log"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// line returns the caller's line number.
func line() int { _, _, l, _ := runtime.Caller(1); return l }

func firstFrame(t *testing.T, err error) runtime.Frame {
	t.Helper()
	st, ok := err.(log.StackTracer)
	if !ok {
		t.Fatalf("%T does not implement log.StackTracer", err)
	}
	fr, _ := runtime.CallersFrames(st.StackTrace()).Next()
	return fr
}

func TestStackStartsAtCaller(t *testing.T) {
	var err error
	var want int
	tests := []struct {
		name string
		make func() (error, int)
	}{
		{"New", func() (error, int) { return errors.New("x"), line() }},
		{"Errorf", func() (error, int) { return errors.Errorf("x %d", 1), line() }},
		{"Errorf %w", func() (error, int) { return errors.Errorf("x: %w", fs.ErrNotExist), line() }},
		{"Errorf two %w", func() (error, int) { return errors.Errorf("%w, %w", fs.ErrNotExist, fs.ErrExist), line() }},
		{"Wrap", func() (error, int) { return errors.Wrap(fs.ErrNotExist, "open"), line() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err, want = tt.make()
			fr := firstFrame(t, err)
			if fr.Line != want || !strings.HasSuffix(fr.File, "errors_test.go") {
				t.Errorf("got %s:%d, want errors_test.go:%d", fr.File, fr.Line, want)
			}
		})
	}
}

type codeErr struct{ code int }

func (c *codeErr) Error() string { return fmt.Sprintf("code %d", c.code) }

func TestStandardCompatibility(t *testing.T) {
	base := &codeErr{7}
	wrapped := errors.With(errors.Wrap(errors.Errorf("read: %w", base), "load config"), "file", "a.yaml")
	if got, want := wrapped.Error(), "load config: read: code 7"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !errors.Is(wrapped, base) || !stderrors.Is(wrapped, base) {
		t.Error("got Is false, want true")
	}
	var ce *codeErr
	if !errors.As(wrapped, &ce) || ce.code != 7 {
		t.Errorf("got As %v, want code 7", ce)
	}
	if got, ok := errors.AsType[*codeErr](wrapped); !ok || got != base {
		t.Errorf("got AsType %v %v, want base", got, ok)
	}
	if errors.Unwrap(errors.Wrap(base, "x")) != base {
		t.Error("got Unwrap != base")
	}
	two := errors.Errorf("%w and %w", fs.ErrNotExist, base)
	if !errors.Is(two, fs.ErrNotExist) || !errors.Is(two, base) {
		t.Error("got Is false for a multi-%w Errorf, want true")
	}
	j := errors.Join(base, nil, fs.ErrExist)
	if !errors.Is(j, fs.ErrExist) {
		t.Error("got Is false on Join, want true")
	}
	if errors.Wrap(nil, "x") != nil || errors.With(nil, "k", 1) != nil {
		t.Error("got non-nil wrapping nil, want nil")
	}
	if got := fmt.Sprintf("%v|%s|%q", wrapped, wrapped, errors.New("q")); got != `load config: read: code 7|load config: read: code 7|"q"` {
		t.Errorf("got %s", got)
	}
	if got := fmt.Sprintf("%+v", errors.New("boom")); !strings.Contains(got, "boom\n") || !strings.Contains(got, "errors_test.go:") {
		t.Errorf("got %%+v %q, want message and stack", got)
	}
}

func TestAttrsOuterWins(t *testing.T) {
	inner := errors.With(errors.New("db"), "order_id", 1, "table", "orders")
	outer := errors.With(errors.Wrap(inner, "charge"), "order_id", 2, slog.String("user", "u1"), "odd")
	got := map[string]string{}
	for _, a := range errors.Attrs(outer) {
		got[a.Key] = a.Value.String()
	}
	want := map[string]string{"order_id": "2", "table": "orders", "user": "u1", "!BADKEY": "odd"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	lv, ok := outer.(slog.LogValuer)
	if !ok {
		t.Fatal("With result is not a slog.LogValuer")
	}
	if v := lv.LogValue(); v.Kind() != slog.KindGroup || len(v.Group()) != 4 {
		t.Errorf("got LogValue %v, want a group of 4", v)
	}
}

func TestLogHandlerWritesStackAndAttrs(t *testing.T) {
	var buf bytes.Buffer
	h := log.NewHandler(log.WithWriter(&buf))
	err := errors.With(errors.Wrap(errors.New("no rows"), "load user"), "user_id", 42, "password", "hunter2")
	slog.New(h).Error("failed", "err", err)
	var doc map[string]any
	if e := json.Unmarshal(buf.Bytes(), &doc); e != nil {
		t.Fatalf("bad JSON %q: %v", buf.String(), e)
	}
	if got := doc["error.message"]; got != "load user: no rows" {
		t.Errorf("got error.message %v", got)
	}
	if got, _ := doc["error.stack_trace"].(string); !strings.Contains(got, "errors_test.go:") {
		t.Errorf("got error.stack_trace %q, want our frames", got)
	}
	if got := doc["user_id"]; got != float64(42) {
		t.Errorf("got user_id %v, want 42", got)
	}
	if got := doc["password"]; got != log.Redacted {
		t.Errorf("got password %v, want %s", got, log.Redacted)
	}
}

// TestSentryExtractsOurStacks proves sentry-go's own event building finds
// the frames of our errors: CaptureException through a real client and
// its HTTP transport, then the envelope as the server received it.
func TestSentryExtractsOurStacks(t *testing.T) {
	srv := sentrytest.NewServer(t)
	client, err := sentry.NewClient(sentry.ClientOptions{Dsn: srv.DSN()})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()

	rootLine := 0
	mk := func() error { rootLine = line(); return errors.New("root cause") }
	root := mk()
	wrapLine := line() + 1
	wrapped := errors.Wrap(root, "outer")

	hub := sentry.NewHub(client, sentry.NewScope())
	hub.CaptureException(wrapped)
	if !client.Flush(5 * time.Second) {
		t.Fatal("flush timed out")
	}
	ev := srv.WaitEvents(t, 1, 5*time.Second)[0]
	// sentry-go sends "exception" as a list; the protocol also allows
	// {"values": [...]}.
	exc, _ := ev["exception"].([]any)
	if m, ok := ev["exception"].(map[string]any); ok {
		exc, _ = m["values"].([]any)
	}
	if len(exc) != 2 {
		t.Fatalf("got %d exceptions, want 2", len(exc))
	}
	// Sentry lists the root cause first and the outermost error last.
	for i, want := range []int{rootLine, wrapLine} {
		e := exc[i].(map[string]any)
		st, _ := e["stacktrace"].(map[string]any)
		frames, _ := st["frames"].([]any)
		if len(frames) == 0 {
			t.Fatalf("exception %d (%v) has no frames", i, e["type"])
		}
		// The innermost frame is last.
		last := frames[len(frames)-1].(map[string]any)
		if got := int(last["lineno"].(float64)); got != want || !strings.HasSuffix(last["abs_path"].(string), "errors_test.go") {
			t.Errorf("exception %d: got %v:%v, want errors_test.go:%d", i, last["abs_path"], last["lineno"], want)
		}
	}
}

// TestErrorTypeLooksThroughWith: error.type names the error With wraps,
// never With's own wrapper, however many surround it.
func TestErrorTypeLooksThroughWith(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"With(Wrap(New))", errors.With(errors.Wrap(errors.New("root"), "charge"), "k", 1), "*errors.Error"},
		{"With(With(std))", errors.With(errors.With(fs.ErrNotExist, "a", 1), "b", 2), "*errors.errorString"},
		{"fmt %w of With", fmt.Errorf("load: %w", errors.With(&codeErr{1}, "a", 1)), "*errors_test.codeErr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			slog.New(log.NewHandler(log.WithWriter(&buf))).Error("failed", "err", tt.err)
			var doc map[string]any
			if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			if got := doc["error.type"]; got != tt.want {
				t.Errorf("got error.type %v, want %s", got, tt.want)
			}
		})
	}
}
