package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/glassbox-obs/glassbox/internal/doctor"
)

// doctorCommand is "glassbox doctor".
func doctorCommand() *command {
	return &command{
		name:  "doctor",
		args:  "[--json] [--timeout duration]",
		short: "check the configuration and that data reaches every backend it names",
		long: `Doctor reads the environment glassbox.Start reads and checks, one line each,
that data can flow:

  config                     every variable glassbox reads parses (a bad one
                             is named)
  elasticsearch.reachable    a node of ELASTICSEARCH_URL answers, and it is
                             Elasticsearch
  elasticsearch.auth         the credentials are accepted
  elasticsearch.version      the version is ` + minESVersion() + ` or newer
  elasticsearch.templates    the index templates and ILM policy are installed
                             and current ("glassbox setup elasticsearch")
  elasticsearch.data         documents arrived in logs-*-* and traces-*-* in
                             the last hour of the cluster's clock
  elasticsearch.clock        the local clock is within 2s of the cluster's
                             (a warning beyond; a failure beyond 1m, the
                             margin of the Kibana links glassbox prints)
  elasticsearch.dead_letter  no document was rejected into the dead-letter file
  otlp.traces, otlp.logs     the OTLP endpoint accepts an empty export on the
                             configured protocol (grpc or http/protobuf)
  otlp.metrics               the same for metrics, when OTEL_METRICS_EXPORTER
                             names otlp (OTEL_EXPORTER_OTLP_METRICS_* first)
  sentry                     SENTRY_DSN parses and its ingest endpoint accepts
                             the key (an empty client report, no event)
  spool                      GLASSBOX_SPOOL_DIR is writable, and what it holds

Each line starts with PASS, WARN, FAIL or SKIP; a WARN or FAIL line is
followed by what to do. A backend that is not configured is skipped, not
failed; the checks of one backend stop at the first failure. The backends
are checked in parallel, and each check gives up after --timeout. Doctor changes
nothing: it creates no directory and installs nothing.

With --json the report is one JSON document on standard output, with these
stable fields:

  {"healthy": true|false,
   "counts": {"pass": n, "warn": n, "fail": n, "skip": n},
   "checks": [{"name": "elasticsearch.auth", "status": "pass|warn|fail|skip",
               "summary": "...", "details": ["..."], "fix": "..."}]}

"details" and "fix" are left out when empty; "name" is one of those above.

Examples:

	glassbox doctor
	ELASTICSEARCH_URL=https://es:9200 ELASTICSEARCH_API_KEY=... glassbox doctor
	glassbox doctor --json | jq -r '.checks[] | select(.status == "fail") | .name'

Exit status: 0 when no check failed (warnings and skipped checks included);
1 when a check failed; 2 on a usage error.
`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) int {
			asJSON := fs.Bool("json", false, "write the report as JSON (fields above)")
			timeout := fs.Duration("timeout", doctor.DefaultTimeout, "give up on a check after this `duration`")
			return func(ctx context.Context, e *env, args []string) int {
				if len(args) > 0 {
					fmt.Fprintf(e.stderr, "glassbox doctor: unexpected argument %q\n", args[0])
					return exitUsage
				}
				if *timeout <= 0 {
					fmt.Fprintln(e.stderr, "glassbox doctor: --timeout must be positive")
					return exitUsage
				}
				rep := doctor.Run(ctx, doctor.Options{Getenv: e.getenv, Timeout: *timeout, Now: time.Now})
				write := rep.WriteText
				if *asJSON {
					write = rep.WriteJSON
				}
				if err := write(e.stdout); err != nil {
					fmt.Fprintf(e.stderr, "glassbox doctor: %v\n", err)
					return exitUsage
				}
				if !rep.Healthy() {
					return exitNotFound
				}
				return exitOK
			}
		},
	}
}
