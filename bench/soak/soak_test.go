package soak

import (
	"bytes"
	"context"
	"flag"
	"os"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

var (
	full       = flag.Bool("soak.full", false, "run the full schedule (a 10-minute outage at 1,000 logs/s and 200 spans/s) instead of the short one")
	outage     = flag.Duration("soak.outage", 0, "length of the refused phase (default: 6s short, 10m full)")
	out        = flag.String("soak.out", "", "append the report's Markdown tables to this file")
	sequential = flag.Bool("soak.sequential", false, "run the two variants one after the other instead of side by side")
	verbose    = flag.Bool("soak.v", false, "log every sample")
	only       = flag.String("soak.only", "", `run only this variant: "spool always" or "no spool"`)
)

func TestMain(m *testing.M) {
	MaybeServe() // the child process: the service (see Run)
	goleak.VerifyTestMain(m)
}

// TestSoak runs the soak schedule twice, with the Elasticsearch spool in
// write-ahead mode and without a spool, and fails on anything Failures
// lists (identity violations, records lost beyond the counted drops, or
// any with the spool, duplicates, a heap above the caps + 20 MiB, leaked
// goroutines) or on Elasticsearch delivery not resuming within 2 s of a
// refused cluster accepting connections again. Latency is reported, not
// gated. By default it runs the short schedule (about a minute); see the
// -soak.* flags for the full one.
func TestSoak(t *testing.T) {
	var (
		mu           sync.Mutex
		buf, summary bytes.Buffer
	)
	for _, v := range []struct {
		name  string
		spool bool
	}{{"spool always", true}, {"no spool", false}} {
		if *only != "" && *only != v.name {
			continue
		}
		t.Run(v.name, func(t *testing.T) {
			if !*sequential {
				t.Parallel()
			}
			cfg := Short(v.name, v.spool)
			if *full {
				cfg = Full(v.name, v.spool)
			}
			if *outage > 0 {
				cfg.Outage = *outage
			}
			if *verbose {
				cfg.Logf = t.Logf
			}
			rep, err := Run(context.Background(), t, cfg)
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			var md bytes.Buffer
			rep.WriteMarkdown(&md)
			t.Logf("%s: %v\n%s", v.name, rep.Ended.Sub(rep.Started).Round(time.Second), md.String())
			mu.Lock()
			buf.Write(md.Bytes())
			rep.WriteSummary(&summary)
			mu.Unlock()
			for _, f := range rep.Failures() {
				t.Error(f)
			}
			if d, ok := rep.ResumedAfter(Refused, "elasticsearch"); !ok || d > 2*time.Second {
				t.Errorf("elasticsearch: delivery resumed %s after the refused phase ended, want within 2s", resumeString(d, ok))
			}
		})
	}
	t.Cleanup(func() {
		if *out == "" {
			return
		}
		f, err := os.OpenFile(*out, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		_, _ = f.Write(summary.Bytes())
		_, _ = f.Write(buf.Bytes())
	})
}
