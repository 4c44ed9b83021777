package soak

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Report is what a Run measured.
type Report struct {
	Config         Config
	Started, Ended time.Time
	Phases         []*PhaseResult
	Seconds        []Second
	// Violations lists the samples where a sink's identity did not hold
	// (after re-reading); TornReads counts re-reads that were needed.
	Violations []string
	TornReads  int
	// LongestTorn is the longest a sample took to read a consistent
	// snapshot.
	LongestTorn time.Duration
	// Drained tells whether every sink settled what it held (nothing in
	// flight or spooled) within Config.Drain after the load stopped.
	Drained   bool
	DrainTime time.Duration
	// Final is the service's last sample, after Shutdown.
	Final         sample
	ShutdownError string
	Sinks         []SinkResult
	LoadErrors    int64
	LastLoadError string
}

// PhaseResult is one phase's figures.
type PhaseResult struct {
	Fault    Fault
	Planned  time.Duration
	Elapsed  time.Duration
	StartsAt time.Duration // since the run started
	// Sent, Missed and Errors count the requests of the phase: sent, not
	// sent because every worker was busy, and answered wrongly or not.
	Sent, Missed, Errors int64
	P50, P99             time.Duration
	// SecondP99 is the median over the phase's seconds of each second's
	// p99: one slow second (a noisy neighbour) moves P99, not this.
	SecondP99      time.Duration
	PeakHeapLive   uint64
	PeakHeapInUse  uint64
	PeakRSS        uint64
	PeakGoroutines int
	LastGoroutines int
	PeakESQueued   int64
	// Start and End are the sinks' counts when the phase began and ended.
	Start, End []counts
	// Resume (of a recovery phase) is, per sink, how long after the fault
	// ended its server received a record again.
	Resume map[string]time.Duration

	lat    []time.Duration
	secP99 []time.Duration
}

// Second is one sample.
type Second struct {
	At                  time.Duration
	Fault               Fault
	Requests            int
	P50, P99            time.Duration
	HeapLive, HeapInUse uint64
	RSS                 uint64
	Goroutines          int
	Errors              int64
	// ESQueued is the memory the Elasticsearch exporter accounts to its
	// queue (Stats.QueuedBytes), the figure WithQueueBytes caps.
	ESQueued int64
	Sinks    []counts
}

// SinkResult is one sink's accounting at the end of the run: the
// exporter's counts after Shutdown and what its server received.
type SinkResult struct {
	Sink   string
	Counts counts
	// Received is what the server stored or accepted, Unique the same
	// by content (a record stored twice counts once).
	Received, Unique int64
	// Lost is what was produced and never reached the server (nor was
	// settled without sending); Duplicates what reached it twice.
	Lost, Duplicates int64
}

func newPhaseResult(p Phase, last sample, at time.Duration) *PhaseResult {
	pr := &PhaseResult{Fault: p.Fault, Planned: p.Duration, StartsAt: at}
	for _, sink := range sinks {
		pr.Start = append(pr.Start, countsOf(last.Stats, sink))
	}
	return pr
}

func (pr *PhaseResult) add(s Second, lat []time.Duration) {
	pr.lat = append(pr.lat, lat...)
	pr.secP99 = append(pr.secP99, s.P99)
	pr.PeakHeapLive = max(pr.PeakHeapLive, s.HeapLive)
	pr.PeakHeapInUse = max(pr.PeakHeapInUse, s.HeapInUse)
	pr.PeakRSS = max(pr.PeakRSS, s.RSS)
	pr.PeakGoroutines = max(pr.PeakGoroutines, s.Goroutines)
	pr.PeakESQueued = max(pr.PeakESQueued, s.ESQueued)
	pr.LastGoroutines = s.Goroutines
}

func (pr *PhaseResult) end(last sample) {
	for _, sink := range sinks {
		pr.End = append(pr.End, countsOf(last.Stats, sink))
	}
	pr.P50, pr.P99 = quantile(pr.lat, 0.50), quantile(pr.lat, 0.99)
	pr.SecondP99 = quantile(pr.secP99, 0.5)
	pr.lat, pr.secP99 = nil, nil
}

// Held is the share of the phase's due requests that were sent.
func (pr *PhaseResult) Held() float64 {
	if pr.Sent+pr.Missed == 0 {
		return 0
	}
	return float64(pr.Sent) / float64(pr.Sent+pr.Missed)
}

func (s Second) line() string {
	var b strings.Builder
	fmt.Fprintf(&b, "t=%4.0fs %-9s req=%d p50=%v p99=%v heap=%s inuse=%s rss=%s gr=%d esq=%s",
		s.At.Seconds(), s.Fault, s.Requests, s.P50.Round(time.Microsecond), s.P99.Round(time.Microsecond),
		mib(s.HeapLive), mib(s.HeapInUse), mib(s.RSS), s.Goroutines, mib(uint64(s.ESQueued)))
	for i, c := range s.Sinks {
		fmt.Fprintf(&b, " | %s p=%d d=%d x=%d f=%d", sinks[i], c.Produced, c.Delivered, c.dropped(), c.InFlight)
		if c.InSpool != 0 {
			fmt.Fprintf(&b, " s=%d", c.InSpool)
		}
	}
	return b.String()
}

func mib(n uint64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// healthy is the baseline phase.
func (r *Report) healthy() *PhaseResult {
	for _, p := range r.Phases {
		if p.Fault == Healthy {
			return p
		}
	}
	return nil
}

// PeakHeapLive is the highest live heap of the service over the run.
func (r *Report) PeakHeapLive() uint64 {
	var m uint64
	for _, p := range r.Phases {
		m = max(m, p.PeakHeapLive)
	}
	return m
}

// Failures lists what the run must not show: identity violations, a
// sink that did not settle, records lost beyond the counted drops (or
// any, with the spool, for Elasticsearch), duplicates, a live heap above
// the caps + 20 MiB, goroutines that did not come back down, requests
// the service answered wrongly. Timing figures (latency, recovery time)
// are not among them: see ResumedAfter.
func (r *Report) Failures() []string {
	var out []string
	out = append(out, r.Violations...)
	if !r.Drained {
		out = append(out, fmt.Sprintf("the sinks did not settle within %v of the load stopping", r.Config.Drain))
	}
	if r.ShutdownError != "" {
		out = append(out, "Shutdown: "+r.ShutdownError)
	}
	for _, s := range r.Sinks {
		c := s.Counts
		if c.imbalance() != 0 || c.InFlight != 0 {
			out = append(out, fmt.Sprintf("%s after Shutdown: identity off by %d, %d in flight", s.Sink, c.imbalance(), c.InFlight))
		}
		switch {
		case s.Sink == "elasticsearch" && r.Config.Spool && (s.Lost != 0 || c.dropped() != 0 || c.InSpool != 0):
			out = append(out, fmt.Sprintf("elasticsearch with the spool: %d lost, %d dropped (%s), %d left in the spool, want none", s.Lost, c.dropped(), c.droppedString(), c.InSpool))
		case s.Lost > c.dropped():
			out = append(out, fmt.Sprintf("%s: %d lost at the server, only %d counted as dropped (%s): %d lost silently", s.Sink, s.Lost, c.dropped(), c.droppedString(), s.Lost-c.dropped()))
		}
		if s.Duplicates != 0 {
			out = append(out, fmt.Sprintf("%s: %d duplicates at the server", s.Sink, s.Duplicates))
		}
	}
	if limit := uint64(r.Config.Caps()) + 20<<20; r.PeakHeapLive() > limit {
		out = append(out, fmt.Sprintf("peak live heap %s above the caps + 20 MiB (%s)", mib(r.PeakHeapLive()), mib(limit)))
	}
	if h := r.healthy(); h != nil && len(r.Phases) > 0 {
		// Every load worker may hold a connection (two goroutines each)
		// after a slow phase; more than that is a leak.
		last := r.Phases[len(r.Phases)-1]
		if limit := h.PeakGoroutines + 2*64 + 50; last.LastGoroutines > limit {
			out = append(out, fmt.Sprintf("%d goroutines at the end, %d in the healthy phase", last.LastGoroutines, h.PeakGoroutines))
		}
	}
	if r.LoadErrors != 0 {
		out = append(out, fmt.Sprintf("%d requests answered wrongly, last: %s", r.LoadErrors, r.LastLoadError))
	}
	return out
}

// ResumedAfter returns how long after the end of the first phase of
// fault f the server of sink received a record again; false when it
// received none before the next phase.
func (r *Report) ResumedAfter(f Fault, sink string) (time.Duration, bool) {
	for i, p := range r.Phases {
		if p.Fault == f && i+1 < len(r.Phases) && r.Phases[i+1].Fault == Recovery {
			d, ok := r.Phases[i+1].Resume[sink]
			return d, ok
		}
	}
	return 0, false
}

func resumeString(d time.Duration, ok bool) string {
	if !ok {
		return "never"
	}
	return d.Round(100 * time.Millisecond).String()
}

// WriteMarkdown writes the report's tables: one row per phase for the
// service, one per phase and sink for the accounting, the recoveries,
// and the final accounting.
func (r *Report) WriteMarkdown(w io.Writer) {
	c := r.Config
	fmt.Fprintf(w, "#### %s\n\n", c.Name)
	fmt.Fprintf(w, "Load %d logs/s and %d spans/s (%d requests/s, half HTTP, half gRPC, 1 in %d failing); caps: Elasticsearch queue %s, OTLP queues %d items, Sentry queue 1 MiB (%s with %d B per OTLP item); %d samples, %d torn reads re-read (a consistent snapshot within %v at worst), %d identity violations.\n\n",
		c.LogsPerSec, c.SpansPerSec, c.SpansPerSec, c.FailEvery, mib(uint64(c.QueueBytes)), c.OTLPQueue, mib(uint64(c.Caps())), otlpItemBytes,
		len(r.Seconds), r.TornReads, r.LongestTorn.Round(time.Millisecond), len(r.Violations))
	h := r.healthy()
	fmt.Fprintln(w, "| phase | s | load held | p50 | p99 | Δp99 vs healthy | median 1-s p99 | Δ | peak heap (live) | peak heap (in use) | peak RSS | peak goroutines | peak ES queue |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, p := range r.Phases {
		delta, sdelta := "—", "—"
		if h != nil && p != h {
			delta = fmt.Sprintf("%+.2f ms", float64(p.P99-h.P99)/1e6)
			sdelta = fmt.Sprintf("%+.2f ms", float64(p.SecondP99-h.SecondP99)/1e6)
		}
		fmt.Fprintf(w, "| %s | %.0f | %.1f %% (%d req, %d missed) | %s | %s | %s | %s | %s | %s | %s | %s | %d | %s |\n",
			p.Fault, p.Elapsed.Seconds(), 100*p.Held(), p.Sent, p.Missed, ms(p.P50), ms(p.P99), delta, ms(p.SecondP99), sdelta,
			mib(p.PeakHeapLive), mib(p.PeakHeapInUse), mib(p.PeakRSS), p.PeakGoroutines, mib(uint64(p.PeakESQueued)))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Per phase and sink: records produced, delivered and dropped (by reason) during the phase; in flight and in the spool at its end; for a recovery, how long after the fault ended the server received a record again.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| phase | sink | produced | delivered | dropped | in flight | in spool | resumed after |")
	fmt.Fprintln(w, "|---|---|---:|---:|---|---:|---:|---:|")
	for _, p := range r.Phases {
		for i, sink := range sinks {
			d := p.End[i].minus(p.Start[i])
			res := ""
			if p.Fault == Recovery {
				v, ok := p.Resume[sink]
				res = resumeString(v, ok)
			}
			fmt.Fprintf(w, "| %s | %s | %d | %d | %s | %d | %d | %s |\n", p.Fault, sink, d.Produced, d.Delivered, d.droppedString(), d.InFlight, d.InSpool, res)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "At the end (load stopped, every sink settled in %s, then Shutdown):\n\n", r.DrainTime.Round(100*time.Millisecond))
	fmt.Fprintln(w, "| sink | produced | delivered | settled otherwise | dropped | in flight | received at the server | lost | duplicates | lost = dropped |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---|---:|---:|---:|---:|---|")
	for _, s := range r.Sinks {
		ok := "yes"
		switch d := s.Counts.dropped(); {
		case s.Lost > d:
			ok = fmt.Sprintf("**no**: %d lost silently", s.Lost-d)
		case s.Lost < d:
			ok = fmt.Sprintf("no: %d counted as dropped were stored (answer cut off)", d-s.Lost)
		}
		fmt.Fprintf(w, "| %s | %d | %d | %d | %s | %d | %d | %d | %d | %s |\n", s.Sink, s.Counts.Produced, s.Counts.Delivered, s.Counts.Settled,
			s.Counts.droppedString(), s.Counts.InFlight, s.Received, s.Lost, s.Duplicates, ok)
	}
	fmt.Fprintln(w)
	if f := r.Failures(); len(f) > 0 {
		fmt.Fprintf(w, "Failures:\n\n")
		for _, s := range f {
			fmt.Fprintf(w, "- %s\n", s)
		}
		fmt.Fprintln(w)
	}
}

// WriteSummary writes the one-row-per-fault table: the load held, the
// p99 delta, the peak heap, the records lost (all sinks) and duplicated,
// and the recovery times.
func (r *Report) WriteSummary(w io.Writer) {
	h := r.healthy()
	fmt.Fprintf(w, "| %s: fault | s | load held | Δp99 (phase; median 1-s) | peak heap (live) | dropped in the fault and its recovery (ES / OTLP spans / OTLP logs / Sentry) | duplicates | resumed after (ES / OTLP spans / OTLP logs / Sentry) |\n", r.Config.Name)
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---|---:|---|")
	for i, p := range r.Phases {
		if p.Fault == Recovery || p.Fault == Warmup {
			continue
		}
		var rec *PhaseResult
		if i+1 < len(r.Phases) && r.Phases[i+1].Fault == Recovery {
			rec = r.Phases[i+1]
		}
		var lost, res []string
		for j, sink := range sinks {
			n := p.End[j].minus(p.Start[j]).dropped()
			if rec != nil {
				n += rec.End[j].minus(rec.Start[j]).dropped()
				v, ok := rec.Resume[sink]
				res = append(res, resumeString(v, ok))
			}
			lost = append(lost, fmt.Sprint(n))
		}
		delta := "—"
		if h != nil && p != h {
			delta = fmt.Sprintf("%+.2f; %+.2f ms", float64(p.P99-h.P99)/1e6, float64(p.SecondP99-h.SecondP99)/1e6)
		}
		var dups int64
		for _, s := range r.Sinks {
			dups += s.Duplicates
		}
		fmt.Fprintf(w, "| %s | %.0f | %.1f %% | %s | %s | %s | %d (run) | %s |\n", p.Fault, p.Elapsed.Seconds(), 100*p.Held(), delta,
			mib(max(p.PeakHeapLive, peakOf(rec))), strings.Join(lost, " / "), dups, strings.Join(res, " / "))
	}
	fmt.Fprintln(w)
}

func peakOf(p *PhaseResult) uint64 {
	if p == nil {
		return 0
	}
	return p.PeakHeapLive
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }
