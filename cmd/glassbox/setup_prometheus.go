package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/glassbox-obs/glassbox/internal/slo"
)

// defaultSLO is used when no --slo is given.
const defaultSLO = "availability=99.9"

// parseSLOs reads the --slo flags, or the default.
func parseSLOs(specs []string) ([]slo.SLO, error) {
	if len(specs) == 0 {
		specs = []string{defaultSLO}
	}
	var out []slo.SLO
	for _, s := range specs {
		o, err := slo.Parse(s)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// setupPrometheusCommand is "glassbox setup prometheus".
func setupPrometheusCommand() *command {
	return &command{
		name:  "prometheus",
		args:  "[--slo spec]... [--service name]... [--out file]",
		short: "write Prometheus recording rules and SLO burn-rate alerts",
		long: `Setup prometheus writes a Prometheus rule file for per-service SLOs over the
metrics glassbox's middleware exposes (` + slo.HTTPDuration + `,
` + slo.RPCDuration + `):

  recording rules  request rate and error ratios per service (service_name)
                   over 5m, 30m, 1h, 6h and 3d
  alerts           for each SLO, the multi-window, multi-burn-rate alerts of
                   the Google SRE workbook for a 30-day budget:
                   1h and 5m above 14.4x (severity page), 6h and 30m above 6x
                   (page), 3d and 6h above 1x (ticket)

An SLO is availability=<percent> (HTTP 5xx and the gRPC codes Unknown,
DeadlineExceeded, Unimplemented, Internal, Unavailable and DataLoss fail) or
latency=<threshold>@<percent> (requests slower than threshold fail); the
threshold must be a bucket boundary of the histograms:
0.005s 0.01s 0.025s 0.05s 0.075s 0.1s 0.25s 0.5s 0.75s 1s 2.5s 5s 7.5s 10s.
Without --slo: ` + defaultSLO + `. Each alert's annotations carry the Kibana query
(kibana_query) that lists the failing requests, whose correlation.id
"glassbox trace <id>" turns into the story of one request.

Without --service the rules cover every service, each evaluated on its own;
with it, only the named ones (repeat the flag for several). Generate either
one file for all services or one per service, not both.

Examples:

	glassbox setup prometheus --slo availability=99.9 --slo latency=250ms@99 --out glassbox-rules.yml
	glassbox setup prometheus --service checkout --slo availability=99.95 --out checkout-rules.yml
	promtool check rules glassbox-rules.yml

Exit status: 0 when the file is written; 2 on a usage error (an SLO that does
not parse, a threshold off the bucket boundaries).
`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) int {
			var specs, services listFlag
			fs.Var(&specs, "slo", "an SLO `spec`: availability=99.9 or latency=250ms@99 (repeatable; default "+defaultSLO+")")
			fs.Var(&services, "service", "limit the rules to the service `name` (service.name; repeatable)")
			out := fs.String("out", "", "write the rules to `file` (default: standard output)")
			return func(ctx context.Context, e *env, args []string) int {
				if len(args) > 0 {
					fmt.Fprintf(e.stderr, "glassbox setup prometheus: unexpected argument %q\n", args[0])
					return exitUsage
				}
				slos, err := parseSLOs(specs)
				if err != nil {
					fmt.Fprintf(e.stderr, "glassbox setup prometheus: %v\n", err)
					return exitUsage
				}
				for _, s := range services {
					if strings.TrimSpace(s) == "" {
						fmt.Fprintln(e.stderr, "glassbox setup prometheus: --service needs a name")
						return exitUsage
					}
				}
				rules, err := slo.Rules(slos, slo.Options{Services: services})
				if err != nil {
					fmt.Fprintf(e.stderr, "glassbox setup prometheus: %v\n", err)
					return exitUsage
				}
				if err := writeOutput(e, *out, []byte(rules.YAML())); err != nil {
					fmt.Fprintf(e.stderr, "glassbox setup prometheus: %v\n", err)
					return exitUsage
				}
				if *out != "" && *out != "-" {
					n := 0
					for _, g := range rules.Groups {
						n += len(g.Rules)
					}
					fmt.Fprintf(e.stderr, "wrote %d rules to %s; check them with: promtool check rules %s\n", n, *out, *out)
				}
				return exitOK
			}
		},
	}
}
