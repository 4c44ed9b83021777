package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/glassbox-obs/glassbox/internal/slo"
)

// setupGrafanaCommand is "glassbox setup grafana".
func setupGrafanaCommand() *command {
	return &command{
		name:  "grafana",
		args:  "[--slo spec]... [--out file]",
		short: "write a Grafana dashboard: RED per service, route and gRPC method, SLO budgets",
		long: `Setup grafana writes a Grafana dashboard (JSON model, Grafana 10 and later) over
the metrics glassbox's middleware exposes to Prometheus:

  Services      request rate, share of failed requests, p95 latency
  HTTP routes   the same per service and http_route
  gRPC methods  the same per service and rpc_method (service/method)
  SLOs          per --slo: the 30-day error budget left and the 1h burn rate

The latency panels show exemplars: a dot carries the trace ID of a sampled
request, for "glassbox trace <id>" (turn exemplars on in the Prometheus data
source). The dashboard has two variables, the Prometheus data source and the
services, and a fixed UID (` + slo.GrafanaUID + `), so importing it again replaces it.
--slo takes the specs of "glassbox setup prometheus" (default ` + defaultSLO + `).

Examples:

	glassbox setup grafana --out glassbox-dashboard.json
	glassbox setup grafana --slo availability=99.9 --slo latency=250ms@99 --out glassbox-dashboard.json

Import it in Grafana with Dashboards > New > Import, or POST it to
/api/dashboards/db as {"dashboard": <file>, "overwrite": true}.

Exit status: 0 when the file is written; 2 on a usage error.
`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) int {
			var specs listFlag
			fs.Var(&specs, "slo", "an SLO `spec` whose error budget to show (repeatable; default "+defaultSLO+")")
			out := fs.String("out", "", "write the dashboard to `file` (default: standard output)")
			return func(ctx context.Context, e *env, args []string) int {
				if len(args) > 0 {
					fmt.Fprintf(e.stderr, "glassbox setup grafana: unexpected argument %q\n", args[0])
					return exitUsage
				}
				slos, err := parseSLOs(specs)
				if err != nil {
					fmt.Fprintf(e.stderr, "glassbox setup grafana: %v\n", err)
					return exitUsage
				}
				b, err := slo.GrafanaDashboard(slos).JSON()
				if err == nil {
					err = writeOutput(e, *out, b)
				}
				if err != nil {
					fmt.Fprintf(e.stderr, "glassbox setup grafana: %v\n", err)
					return exitUsage
				}
				if *out != "" && *out != "-" {
					fmt.Fprintf(e.stderr, "wrote the dashboard to %s\n", *out)
				}
				return exitOK
			}
		},
	}
}
