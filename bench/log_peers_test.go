package bench

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

// Every slog handler benchmarked writes one JSON line per record with the
// message, the attributes and the three context IDs, and nothing for a
// disabled level: the benchmarks compare handlers doing the same job.
func TestSlogHandlersWriteTheFixture(t *testing.T) {
	ctx := benchCtx()
	fixtures := map[string]func(*slog.Logger){
		"ten fields": func(l *slog.Logger) { slogAttrs(l, ctx, slog.LevelInfo) },
		"five attrs": func(l *slog.Logger) { slogFiveAttrs(l, ctx, slog.LevelInfo) },
	}
	for name, logf := range fixtures {
		var buf bytes.Buffer
		for _, sh := range slogHandlers(&buf) {
			buf.Reset()
			slogAttrs(slog.New(sh.h), ctx, slog.LevelDebug)
			if buf.Len() != 0 {
				t.Errorf("%s: wrote %q for a disabled level", sh.name, buf.String())
			}
			logf(slog.New(sh.h))
			line := strings.TrimSuffix(buf.String(), "\n")
			var doc map[string]any
			if strings.Contains(line, "\n") || json.Unmarshal([]byte(line), &doc) != nil {
				t.Fatalf("%s, %s: not one JSON line: %q", sh.name, name, buf.String())
			}
			for _, want := range []string{benchMsg, "u-1842", "/api/v1/orders/7781", benchCorr, "00f067aa0ba902b7"} {
				if !strings.Contains(line, want) {
					t.Errorf("%s, %s: %q missing from %s", sh.name, name, want, line)
				}
			}
		}
	}
}
