package soak

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

// Config is one soak run: the load, the schedule and glassbox's caps.
type Config struct {
	// Name names the run in reports ("spool always", "no spool").
	Name string
	// Spool gives the Elasticsearch exporter a spool directory in
	// SpoolAlways (write-ahead) mode; without it, an outage longer than
	// the queue holds loses records, counted.
	Spool bool
	// LogsPerSec and SpansPerSec are the load: one request per span, each
	// writing LogsPerSec/SpansPerSec records (its access record included).
	LogsPerSec, SpansPerSec int
	// FailEvery makes every FailEvery-th request fail (a Sentry event).
	FailEvery int
	// Warmup is a healthy phase left out of the baseline; Healthy the
	// baseline phase; Outage the refused phase; Fault every other fault
	// phase; Recovery the healthy phase after each fault.
	Warmup, Healthy, Outage, Fault, Recovery time.Duration
	// Slow is how long the servers hold each request in the slow phase.
	Slow time.Duration
	// QueueBytes caps the Elasticsearch exporter's memory; OTLPQueue the
	// OTLP processors' queues (items). Sentry keeps its default (1 MiB).
	QueueBytes int64
	OTLPQueue  int
	// Drain bounds the wait, after the load stops, for every sink to
	// settle what it holds before Shutdown.
	Drain time.Duration
	// Logf receives one line per sample; nil discards them.
	Logf func(format string, args ...any)
}

// Short is the schedule CI runs: about a minute, at half the full load.
// Without the spool, the Elasticsearch queue is small (1 MiB) so that the
// 6-second outage overflows it and the drops are checked against what
// the server lacks; with the spool, it is large enough (8 MiB) for the
// slow phase, since the spool takes the batches that fail, not those that
// wait (see RESULTS.md).
func Short(name string, spool bool) Config {
	c := Config{
		Name: name, Spool: spool, LogsPerSec: 500, SpansPerSec: 100, FailEvery: 100,
		Warmup: 3 * time.Second, Healthy: 8 * time.Second, Outage: 6 * time.Second, Fault: 5 * time.Second, Recovery: 4 * time.Second,
		Slow: 5 * time.Second, QueueBytes: 1 << 20, OTLPQueue: 1024, Drain: 60 * time.Second,
	}
	if spool {
		c.QueueBytes = 8 << 20
	}
	return c
}

// Full is the schedule of bench/RESULTS.md: a 10-minute outage at 1,000
// logs/s and 200 spans/s with glassbox's default caps.
func Full(name string, spool bool) Config {
	return Config{
		Name: name, Spool: spool, LogsPerSec: 1000, SpansPerSec: 200, FailEvery: 100,
		Warmup: 15 * time.Second, Healthy: time.Minute, Outage: 10 * time.Minute, Fault: time.Minute, Recovery: 30 * time.Second,
		Slow: 5 * time.Second, QueueBytes: 32 << 20, OTLPQueue: 2048, Drain: 5 * time.Minute,
	}
}

// sentryQueueBytes is the Sentry exporter's default queue cap.
const sentryQueueBytes = 1 << 20

// otlpItemBytes is the memory the soak allows per queued OTLP item when it
// turns the OTLP queues' item caps into bytes.
const otlpItemBytes = 2 << 10

// Caps is the memory the configured caps allow the exporters to hold.
func (c Config) Caps() int64 {
	return c.QueueBytes + sentryQueueBytes + 2*int64(c.OTLPQueue)*otlpItemBytes
}

// Phase is one step of the schedule.
type Phase struct {
	Fault    Fault
	Duration time.Duration
	// Slow is the hold of a Slow phase.
	Slow time.Duration
}

// Schedule is the run's sequence: warm-up, healthy, then each fault
// followed by a recovery phase.
func (c Config) Schedule() []Phase {
	ps := []Phase{{Fault: Warmup, Duration: c.Warmup}, {Fault: Healthy, Duration: c.Healthy}}
	for _, f := range []Fault{Refused, Slow, Storm429, Storm503, Partial, TooLarge} {
		d := c.Fault
		switch f {
		case Refused:
			d = c.Outage
		case Slow:
			d = max(d, c.Slow+3*time.Second) // long enough for held requests to end within it
		}
		ps = append(ps, Phase{Fault: f, Duration: d, Slow: c.Slow}, Phase{Fault: Recovery, Duration: c.Recovery})
	}
	return ps
}

// Run runs the soak: the test servers in this process, the service in a
// child process (see MaybeServe), the load, the schedule, a sample every
// second with the identity of every sink checked, and at the end the
// records lost and duplicated, counted at the servers. tb owns the test
// servers. The error is for a run that could not be carried out; what
// the run found is in the Report (see Report.Failures).
func Run(ctx context.Context, tb testing.TB, cfg Config) (*Report, error) {
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	w := newWorld(tb, cfg.Slow)
	sc := serviceConfig{
		ES: w.es.URL(), OTLP: w.otlp.Endpoint(), SentryDSN: w.sentry.DSN(),
		QueueBytes: cfg.QueueBytes, OTLPQueue: cfg.OTLPQueue,
		AppLogs: max(cfg.LogsPerSec/max(cfg.SpansPerSec, 1)-1, 0),
	}
	if cfg.Spool {
		dir, err := os.MkdirTemp("", "glassbox-soak-spool-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		sc.SpoolDir = dir
	}
	svc, err := startChild(sc)
	if err != nil {
		return nil, err
	}
	r := newRunner(cfg, w, svc)
	defer func() {
		if !r.shutDown {
			svc.kill()
		}
	}()
	return r.run(ctx)
}

// runner is the state of one Run.
type runner struct {
	cfg      Config
	w        *world
	svc      *child
	ld       *load
	rep      *Report
	shutDown bool
	last     sample
}

func newRunner(cfg Config, w *world, svc *child) *runner {
	return &runner{cfg: cfg, w: w, svc: svc, rep: &Report{Config: cfg, Started: time.Now()}}
}

func (r *runner) run(ctx context.Context) (*Report, error) {
	ld, err := newLoad(r.svc.addrs, float64(r.cfg.SpansPerSec), r.cfg.FailEvery)
	if err != nil {
		return nil, err
	}
	r.ld = ld
	loadCtx, stopLoad := context.WithCancel(ctx)
	loadDone := make(chan struct{})
	go func() { defer close(loadDone); ld.run(loadCtx) }()
	defer func() { stopLoad(); <-loadDone }()

	collectCtx, stopCollect := context.WithCancel(ctx)
	collectDone := make(chan struct{})
	go func() { defer close(collectDone); r.collectLoop(collectCtx) }()
	defer func() { stopCollect(); <-collectDone }()

	if r.last, err = r.svc.sample(ctx); err != nil {
		return nil, err
	}
	for _, p := range r.cfg.Schedule() {
		if err := r.phase(ctx, p); err != nil {
			return r.rep, err
		}
	}
	stopLoad()
	<-loadDone
	if err := r.finish(ctx); err != nil {
		return r.rep, err
	}
	r.rep.Ended = time.Now()
	return r.rep, nil
}

// collectLoop counts what the servers receive ten times a second, and
// notes when delivery resumes after a fault.
func (r *runner) collectLoop(ctx context.Context) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.w.collect()
		}
	}
}

// phase runs one phase: the fault applied, a sample every second.
func (r *runner) phase(ctx context.Context, p Phase) error {
	if err := r.w.apply(p.Fault); err != nil {
		return fmt.Errorf("%s: %w", p.Fault, err)
	}
	pr := newPhaseResult(p, r.last, time.Since(r.rep.Started))
	if p.Fault == Recovery {
		r.w.markRecovery(time.Now())
	}
	sent0, missed0, errs0 := r.ld.sent.Load(), r.ld.missed.Load(), r.ld.errs.Load()
	start := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for time.Since(start) < p.Duration-time.Second/2 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		s, err := r.sample(ctx, pr)
		if err != nil {
			return err
		}
		r.last = s
	}
	pr.Elapsed = time.Since(start)
	pr.Sent, pr.Missed, pr.Errors = r.ld.sent.Load()-sent0, r.ld.missed.Load()-missed0, r.ld.errs.Load()-errs0
	pr.end(r.last)
	if p.Fault == Recovery {
		pr.Resume = r.w.resumes()
	}
	r.rep.Phases = append(r.rep.Phases, pr)
	return nil
}

// sample reads the service's figures, checks every sink's identity and
// records the second in pr. An identity that does not hold is read again
// for up to 200 ms: a snapshot of counters taken while records move can
// catch a record between two of them (the exporters' counters are
// separate atomics), and a writer that counted a record and then waits
// for its queue's lock keeps it there that long. One that still does not
// hold is a violation: a record counted twice or never settled.
func (r *runner) sample(ctx context.Context, pr *PhaseResult) (sample, error) {
	var s sample
	var err error
	var bad []string
	start := time.Now()
	for {
		if s, err = r.svc.sample(ctx); err != nil {
			return s, err
		}
		bad = bad[:0]
		for _, sink := range sinks {
			if c := countsOf(s.Stats, sink); c.imbalance() != 0 {
				bad = append(bad, fmt.Sprintf("%s off by %d: %+v", sink, c.imbalance(), c))
			}
		}
		if len(bad) == 0 || time.Since(start) > 200*time.Millisecond {
			break
		}
		r.rep.TornReads++
		time.Sleep(5 * time.Millisecond) // poll the condition, not a lock-step re-read
	}
	if len(bad) == 0 {
		r.rep.LongestTorn = max(r.rep.LongestTorn, time.Since(start))
	}
	at := time.Since(r.rep.Started)
	for _, b := range bad {
		r.rep.Violations = append(r.rep.Violations, fmt.Sprintf("t=%v %s: %s", at.Round(time.Second), pr.Fault, b))
	}
	lat := r.ld.take()
	sec := Second{
		At: at, Fault: pr.Fault, Requests: len(lat), HeapLive: s.HeapLive, HeapInUse: s.HeapInUse,
		RSS: s.RSS, Goroutines: s.Goroutines, Errors: s.Errors, ESQueued: s.Stats.Elasticsearch.QueuedBytes,
		P50: quantile(lat, 0.50), P99: quantile(lat, 0.99),
	}
	for _, sink := range sinks {
		c := countsOf(s.Stats, sink)
		sec.Sinks = append(sec.Sinks, c)
	}
	pr.add(sec, lat)
	r.rep.Seconds = append(r.rep.Seconds, sec)
	r.cfg.Logf("%s", sec.line())
	return s, nil
}

// finish lets every sink settle what it holds, shuts the service down and
// counts, at the servers, what arrived.
func (r *runner) finish(ctx context.Context) error {
	deadline := time.Now().Add(r.cfg.Drain)
	start := time.Now()
	for {
		s, err := r.svc.sample(ctx)
		if err != nil {
			return err
		}
		r.last = s
		settled := true
		for _, sink := range sinks {
			c := countsOf(s.Stats, sink)
			settled = settled && c.InFlight == 0 && c.InSpool == 0 && c.imbalance() == 0
		}
		if settled || time.Now().After(deadline) {
			r.rep.Drained, r.rep.DrainTime = settled, time.Since(start)
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	final, shutdownErr, err := r.svc.shutdown(ctx, 30*time.Second)
	r.shutDown = true
	if err != nil {
		return err
	}
	r.rep.ShutdownError = shutdownErr
	r.rep.Final = final
	r.w.collect()
	r.rep.LoadErrors = r.ld.errs.Load()
	if e, ok := r.ld.lastErr.Load().(string); ok {
		r.rep.LastLoadError = e
	}
	for _, sink := range sinks {
		c := countsOf(final.Stats, sink)
		received, unique, _ := r.w.got(sink)
		r.rep.Sinks = append(r.rep.Sinks, SinkResult{
			Sink: sink, Counts: c, Received: received, Unique: unique,
			Lost: c.Produced - notSent(final, sink) - unique, Duplicates: received - unique,
		})
	}
	return nil
}

// notSent is what sink settled without sending it (so without a copy at
// the server): dead letters, and events counted in an aggregation
// summary. Duplicates (409) are not among them: their first copy is
// stored.
func notSent(s sample, sink string) int64 {
	switch sink {
	case "elasticsearch":
		return s.Stats.Elasticsearch.DeadLettered
	case "sentry":
		return int64(s.Stats.Sentry.Aggregated)
	}
	return 0
}
