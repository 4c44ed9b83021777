package log_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"testing/slogtest"

	oteltrace "go.opentelemetry.io/otel/trace"

	gblog "github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/trace"
)

// idContext carries a correlation ID and a span.
func idContext() (context.Context, oteltrace.SpanContext) {
	sc := oteltrace.NewSpanContext(oteltrace.SpanContextConfig{
		TraceID:    oteltrace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:     oteltrace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
		TraceFlags: oteltrace.FlagsSampled,
	})
	ctx := oteltrace.ContextWithSpanContext(context.Background(), sc)
	return trace.WithCorrelationID(ctx, "order-7781"), sc
}

// checkIDs fails unless the one JSON line in buf has each ID field exactly
// once, with the context's values, and no renamed copy of one.
func checkIDs(t *testing.T, name string, buf *bytes.Buffer, sc oteltrace.SpanContext) {
	t.Helper()
	line := strings.TrimSpace(buf.String())
	for _, k := range []string{"correlation.id", "trace.id", "span.id"} {
		if n := strings.Count(line, `"`+k+`"`); n != 1 {
			t.Errorf("%s: %s appears %d times, want once:\n%s", name, k, n, line)
		}
		if strings.Contains(line, `"`+k+`_`) {
			t.Errorf("%s: a renamed copy of %s:\n%s", name, k, line)
		}
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatalf("%s: not one JSON line: %v\n%s", name, err, line)
	}
	if m["correlation.id"] != "order-7781" || m["trace.id"] != sc.TraceID().String() || m["span.id"] != sc.SpanID().String() {
		t.Errorf("%s: IDs %v %v %v, want the context's", name, m["correlation.id"], m["trace.id"], m["span.id"])
	}
}

// However glassbox's handler is wrapped, and whether or not the records
// carry the context's IDs as attributes, every output has each ID field
// once: glassbox's handler owns them and drops the copies, and
// NewContextIDHandler gives another handler the IDs it cannot read.
func TestContextIDFieldsNeverDuplicated(t *testing.T) {
	ctx, sc := idContext()
	withIDs := []slog.Attr{
		slog.String("correlation.id", "order-7781"),
		slog.String("trace.id", sc.TraceID().String()),
		slog.Any("span.id", sc.SpanID()),
	}
	for _, tc := range []struct {
		name  string
		build func(gb, other slog.Handler) slog.Handler
		attrs []slog.Attr
	}{
		{"multi, the other wrapped", func(gb, other slog.Handler) slog.Handler {
			return slog.NewMultiHandler(gb, gblog.NewContextIDHandler(other))
		}, nil},
		{"wrapped multi", func(gb, other slog.Handler) slog.Handler {
			return gblog.NewContextIDHandler(slog.NewMultiHandler(gb, other))
		}, nil},
		{"wrapped twice", func(gb, other slog.Handler) slog.Handler {
			return gblog.NewContextIDHandler(slog.NewMultiHandler(gblog.NewContextIDHandler(gb), gblog.NewContextIDHandler(other)))
		}, nil},
		{"record carries the IDs", func(gb, other slog.Handler) slog.Handler {
			return slog.NewMultiHandler(gb, other)
		}, withIDs},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var gbOut, otherOut bytes.Buffer
			h := tc.build(gblog.NewHandler(gblog.WithWriter(&gbOut)), slog.NewJSONHandler(&otherOut, nil))
			slog.New(h).LogAttrs(ctx, slog.LevelInfo, "paid", tc.attrs...)
			checkIDs(t, "glassbox output", &gbOut, sc)
			checkIDs(t, "other output", &otherOut, sc)
		})
	}
}

// A record attribute named like an ID field but with another value is
// the user's: it is kept (renamed, since the handler writes the field).
func TestContextIDOtherValueKept(t *testing.T) {
	ctx, _ := idContext()
	var buf bytes.Buffer
	slog.New(gblog.NewHandler(gblog.WithWriter(&buf))).InfoContext(ctx, "m", "correlation.id", "someone-else", "trace.id", 42)
	out := buf.String()
	if !strings.Contains(out, `"correlation.id_2":"someone-else"`) || !strings.Contains(out, `"trace.id_2":42`) {
		t.Errorf("other values lost:\n%s", out)
	}
	// Inside a group the field is not the document's own.
	buf.Reset()
	slog.New(gblog.NewHandler(gblog.WithWriter(&buf))).WithGroup("g").InfoContext(ctx, "m", "correlation.id", "order-7781")
	if !strings.Contains(buf.String(), `"g":{"correlation.id":"order-7781"}`) {
		t.Errorf("grouped field lost:\n%s", buf.String())
	}
}

// The IDs stay at the top level whatever groups the logger opened.
func TestContextIDHandlerGroups(t *testing.T) {
	ctx, sc := idContext()
	var buf bytes.Buffer
	l := slog.New(gblog.NewContextIDHandler(slog.NewJSONHandler(&buf, nil))).With("a", 1).WithGroup("g").With("b", 2).WithGroup("h")
	l.InfoContext(ctx, "m", "c", 3)
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if m["correlation.id"] != "order-7781" || m["trace.id"] != sc.TraceID().String() || m["span.id"] != sc.SpanID().String() || m["a"] != 1.0 {
		t.Errorf("top level: got %v", m)
	}
	g, _ := m["g"].(map[string]any)
	h, _ := g["h"].(map[string]any)
	if g["b"] != 2.0 || h["c"] != 3.0 {
		t.Errorf("groups: got %v", m)
	}
}

// NewContextIDHandler is a well-behaved slog.Handler.
func TestContextIDHandlerSlogtest(t *testing.T) {
	var buf bytes.Buffer
	newHandler := func(t *testing.T) slog.Handler {
		buf.Reset()
		return gblog.NewContextIDHandler(slog.NewJSONHandler(&buf, nil))
	}
	result := func(t *testing.T) map[string]any {
		lines := parseLines(t, &buf)
		if len(lines) != 1 {
			t.Fatalf("got %d lines, want 1", len(lines))
		}
		return lines[0]
	}
	slogtest.Run(t, newHandler, result)
}
