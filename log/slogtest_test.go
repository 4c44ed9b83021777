package log_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
	"testing/slogtest"

	gblog "github.com/glassbox-obs/glassbox/log"
)

// parseLines decodes every line of buf as a JSON object.
func parseLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimRight(buf.Bytes(), "\n"), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("line is not JSON: %v\n%s", err, line)
		}
		out = append(out, m)
	}
	return out
}

// slogtestView maps an ECS document to the shape slogtest expects: the
// standard keys under their slog names, user attributes as they are.
func slogtestView(m map[string]any) map[string]any {
	v := map[string]any{}
	for k, x := range m {
		switch k {
		case "@timestamp":
			v[slog.TimeKey] = x
		case "log.level":
			v[slog.LevelKey] = x
		case "message":
			v[slog.MessageKey] = x
		case "ecs.version":
		default:
			v[k] = x
		}
	}
	return v
}

func TestSlogtest(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []gblog.Option
	}{
		{"plain", nil},
		{"with_service", []gblog.Option{gblog.WithService(gblog.Service{})}},
		{"with_flight_recorder", []gblog.Option{gblog.WithFlightRecorder(gblog.NewFlightRecorder())}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			newHandler := func(t *testing.T) slog.Handler {
				buf.Reset()
				return gblog.NewHandler(append(tc.opts, gblog.WithWriter(&buf))...)
			}
			result := func(t *testing.T) map[string]any {
				lines := parseLines(t, &buf)
				if len(lines) != 1 {
					t.Fatalf("got %d lines, want 1", len(lines))
				}
				return slogtestView(lines[0])
			}
			slogtest.Run(t, newHandler, result)
		})
	}
}
