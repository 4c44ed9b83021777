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

func (p *printer) summary(dir string, elapsed time.Duration, shipped glassbox.Exporters) {
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
	if also := elsewhere(shipped); also != "" {
		fmt.Fprintf(p.w, "%s.\n", also)
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
	if shipped.Elasticsearch {
		fmt.Fprintf(p.w, "\nFrom Elasticsearch (ELASTICSEARCH_URL is set), the same stories: go run ./cmd/glassbox trace <ID>\n")
	}
}

// elsewhere says where else the documents went, or "".
func elsewhere(e glassbox.Exporters) string {
	var to []string
	if e.Elasticsearch {
		to = append(to, "Elasticsearch")
	}
	if e.OTLPSpans || e.OTLPLogs {
		to = append(to, "the OTLP endpoint")
	}
	var parts []string
	if len(to) > 0 {
		parts = append(parts, "They also went to "+strings.Join(to, " and "))
	}
	if e.Sentry {
		parts = append(parts, "failures were reported to Sentry")
	}
	s := strings.Join(parts, "; ")
	if s != "" {
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	return s
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
