package story_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/glassbox-obs/glassbox/internal/story"
)

func Example() {
	dir, _ := os.MkdirTemp("", "story")
	defer os.RemoveAll(dir)
	// Two documents as exporter/file writes them: a span and a log line in it.
	_ = os.WriteFile(filepath.Join(dir, "logs-api-default.ndjson"), []byte(
		`{"@timestamp":"2026-01-02T03:04:05.002Z","log.level":"error","message":"card declined","service.name":"api","correlation.id":"order-1","trace.id":"4bf92f3577b34da6a3ce929d0e0e4736","span.id":"00f067aa0ba902b7","error.id":"0123456789abcdef0123456789abcdef"}`+"\n"), 0o600)
	_ = os.WriteFile(filepath.Join(dir, "traces-api-default.ndjson"), []byte(
		`{"@timestamp":"2026-01-02T03:04:05Z","processor.event":"span","service.name":"api","correlation.id":"order-1","trace.id":"4bf92f3577b34da6a3ce929d0e0e4736","span.id":"00f067aa0ba902b7","span.name":"POST /pay","span.kind":"server","event.duration":5000000,"event.outcome":"failure","http.response.status_code":402}`+"\n"), 0o600)

	src, err := story.OpenFiles([]string{dir}, nil, nil)
	if err != nil {
		panic(err)
	}
	// A Sentry event ID leads to the whole request.
	res, err := story.Collect(context.Background(), src, story.Request{ID: "0123456789abcdef0123456789abcdef"})
	if err != nil {
		panic(err)
	}
	s := story.Build(res)
	fmt.Println(s.Kind.Label(), s.CorrelationIDs, len(s.Spans), len(s.Logs), story.FormatDuration(s.Duration()))
	fmt.Println(s.FirstError.Message, "in", s.FirstError.Span.Name, s.FirstError.Span.Status)
	// Output:
	// Sentry event ID [order-1] 1 1 5.00ms
	// card declined in POST /pay 402
}
