package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/glassbox-obs/glassbox"
)

// maxListed caps the failed requests listed at the end of a long run;
// every request's line above has its correlation ID anyway.
const maxListed = 20

// printer writes what the terminal shows: one line per request, then the
// summary with the commands that tell the failed requests' stories.
type printer struct {
	w       io.Writer
	results []result
}

func (p *printer) header(s *shop, dir string) {
	fmt.Fprintf(p.w, "checkout: three services on loopback, each with its own glassbox.Start\n")
	fmt.Fprintf(p.w, "  frontend  %s  (HTTP)\n", s.frontendURL)
	fmt.Fprintf(p.w, "  payments  %s  (gRPC payments.Payments)\n", s.paymentsAddr)
	fmt.Fprintf(p.w, "  ledger    %s  (HTTP)\n", s.ledgerURL)
	fmt.Fprintf(p.w, "  documents %s  (exporter/file)\n\n", dir)
	fmt.Fprintf(p.w, "%4s  %-15s %6s %9s  %-32s  %s\n", "#", "REQUEST", "STATUS", "DURATION", "X-CORRELATION-ID", "WHAT")
}

// request prints one request's line.
func (p *printer) request(r result) {
	p.results = append(p.results, r)
	st := fmt.Sprint(r.status)
	what := r.kind.name
	if r.status == 0 {
		st, what = "-", what+": "+r.err.Error()
	}
	fmt.Fprintf(p.w, "%4d  %-15s %6s %9s  %-32s  %s\n", r.n, r.method+" "+r.path, st, duration(r.duration), r.correlationID, what)
}

func (p *printer) summary(dir string, elapsed time.Duration, shipped delivery) {
	var ok, rejected int
	var failed []result
	for _, r := range p.results {
		switch {
		case r.failed():
			failed = append(failed, r)
		case r.status >= 400:
			rejected++
		default:
			ok++
		}
	}
	fmt.Fprintf(p.w, "\n%d requests in %s: %d ok, %d rejected (4xx), %d failed.\n", len(p.results), duration(elapsed), ok, rejected, len(failed))
	files, _ := filepath.Glob(filepath.Join(dir, "*.ndjson"))
	fmt.Fprintf(p.w, "The services wrote their logs and spans to %d files in %s\n", len(files), dir)
	for _, line := range shipped.lines() {
		fmt.Fprintln(p.w, line)
	}
	if len(failed) == 0 {
		return
	}
	fmt.Fprintf(p.w, "\nThe story of each failed request, from its X-Correlation-ID (run in the repository's root):\n")
	for i, r := range failed {
		if i == maxListed {
			fmt.Fprintf(p.w, "  ... and %d more: their IDs are in the lines above.\n", len(failed)-maxListed)
			break
		}
		fmt.Fprintf(p.w, "  #%d %s\n    go run ./cmd/glassbox trace --dir %s %s\n", r.n, r.kind.name, shellQuote(dir), r.correlationID)
	}
	if shipped.es.delivered > 0 {
		fmt.Fprintf(p.w, "\nFrom Elasticsearch (ELASTICSEARCH_URL is set), the same stories: go run ./cmd/glassbox trace <ID>\n")
	}
}

// delivery is what the services' exporters did with their documents,
// summed over the three services, after their telemetry was shut down.
type delivery struct {
	enabled glassbox.Exporters
	es      struct{ produced, delivered, rejected, dropped, spooled int64 }
	esError string // the latest background failure, "" if none
	spans   struct{ produced, exported, dropped int64 }
	logs    struct{ produced, exported, dropped int64 }
}

// add counts one service's Stats in.
func (d *delivery) add(st glassbox.Stats) {
	d.enabled = st.Enabled
	es := st.Elasticsearch
	d.es.produced += es.Produced
	d.es.delivered += es.Delivered + es.Duplicates
	d.es.rejected += es.DeadLettered
	d.es.dropped += es.Dropped.Total() + es.InFlight
	d.es.spooled += es.InSpool
	if es.LastError != "" {
		d.esError = es.LastError
	}
	d.spans.produced += st.OTLPSpans.Produced
	d.spans.exported += st.OTLPSpans.Exported
	d.spans.dropped += st.OTLPSpans.Dropped.Total() + st.OTLPSpans.InFlight
	d.logs.produced += st.OTLPLogs.Produced
	d.logs.exported += st.OTLPLogs.Exported
	d.logs.dropped += st.OTLPLogs.Dropped.Total() + st.OTLPLogs.InFlight
}

// lines say where else the documents went and how many arrived: a
// backend that was configured but did not take them is not said to have
// them.
func (d delivery) lines() []string {
	var out []string
	if d.enabled.Elasticsearch {
		var lost []string
		if d.es.rejected > 0 {
			lost = append(lost, fmt.Sprintf("%d rejected (in the dead-letter file)", d.es.rejected))
		}
		if d.es.dropped > 0 {
			lost = append(lost, fmt.Sprintf("%d dropped", d.es.dropped))
		}
		if d.es.spooled > 0 {
			lost = append(lost, fmt.Sprintf("%d kept in the spool for the next run", d.es.spooled))
		}
		line := fmt.Sprintf("Elasticsearch took %d of %d documents%s", d.es.delivered, d.es.produced, tail(lost))
		if len(lost) > 0 && d.esError != "" {
			line += " Last error: " + d.esError
		}
		out = append(out, line)
	}
	var took []string
	var lost []string
	if d.enabled.OTLPSpans {
		took = append(took, fmt.Sprintf("%d of %d spans", d.spans.exported, d.spans.produced))
		if d.spans.dropped > 0 {
			lost = append(lost, fmt.Sprintf("%d spans dropped", d.spans.dropped))
		}
	}
	if d.enabled.OTLPLogs {
		took = append(took, fmt.Sprintf("%d of %d log records", d.logs.exported, d.logs.produced))
		if d.logs.dropped > 0 {
			lost = append(lost, fmt.Sprintf("%d log records dropped", d.logs.dropped))
		}
	}
	if len(took) > 0 {
		out = append(out, "The OTLP endpoint took "+strings.Join(took, " and ")+tail(lost))
	}
	if d.enabled.Sentry {
		out = append(out, "Failures were reported to Sentry.")
	}
	return out
}

// tail ends a line of lines: ":" and what went wrong, or ".".
func tail(lost []string) string {
	if len(lost) == 0 {
		return "."
	}
	return ": " + strings.Join(lost, ", ") + "."
}

// duration formats d for the table: 12.3ms, 1.25s.
func duration(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}

// shellQuote returns s as one shell word.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:@%+=,-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
