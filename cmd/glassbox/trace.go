package main

import (
	"context"
	"flag"
	"fmt"
)

// traceCommand is "glassbox trace <id>". Placeholder until the story issue
// lands: it only declares the command so the CLI layout is fixed.
func traceCommand() *command {
	return &command{
		name:  "trace",
		args:  "[flags] <id>",
		short: "show the story of one request: its spans and logs across services",
		long: `Trace finds every log document and span of one request, across services,
by its correlation ID, trace ID or Sentry event ID.`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) int {
			return func(ctx context.Context, e *env, args []string) int {
				fmt.Fprintln(e.stderr, "glassbox trace: not implemented yet")
				return exitUsage
			}
		},
	}
}
