package log_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	gblog "github.com/glassbox-obs/glassbox/log"
)

func ExampleFlightRecorder() {
	var out strings.Builder
	rec := gblog.NewFlightRecorder()
	logger := slog.New(gblog.NewHandler(gblog.WithWriter(&out), gblog.WithFlightRecorder(rec)))

	// A unit of work that succeeds: its DEBUG records are dropped unencoded.
	ctx, fl := rec.Begin(context.Background())
	logger.DebugContext(ctx, "cache hit", "key", "order:41")
	fl.End(false)

	// One that fails: they are written, marked, before the failure.
	ctx, fl = rec.Begin(context.Background())
	logger.DebugContext(ctx, "cache miss", "key", "order:42")
	logger.DebugContext(ctx, "gateway answered", "status", 502)
	fl.End(true)
	logger.ErrorContext(ctx, "payment failed")

	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		fmt.Println(line[strings.Index(line, `"log.level"`):strings.Index(line, `,"ecs.version"`)], strings.Contains(line, `"glassbox.replayed":true`))
	}
	st := rec.Stats()
	fmt.Println("replayed", st.Replayed, "discarded", st.Discarded)
	// Output:
	// "log.level":"debug","message":"cache miss" true
	// "log.level":"debug","message":"gateway answered" true
	// "log.level":"error","message":"payment failed" false
	// replayed 2 discarded 1
}
