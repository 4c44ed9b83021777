package doctor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/glassbox-obs/glassbox/internal/textsafe"
)

// Status is the outcome of one check.
type Status string

// The statuses, from best to worst. Only Fail makes a Report unhealthy:
// Warn is something to look at that does not stop data from flowing, Skip
// a check whose backend is not configured (or whose prerequisite failed).
const (
	Pass Status = "pass"
	Skip Status = "skip"
	Warn Status = "warn"
	Fail Status = "fail"
)

// Result is the outcome of one check. Its JSON field names are stable:
// scripts read them (see "glassbox help doctor").
type Result struct {
	// Name identifies the check; one of Names().
	Name string `json:"name"`
	// Status is pass, warn, fail or skip.
	Status Status `json:"status"`
	// Summary is one line: what was found.
	Summary string `json:"summary"`
	// Details are further lines: each invalid variable, each missing
	// template, what the spool holds.
	Details []string `json:"details,omitempty"`
	// Fix says what to do; empty when there is nothing to do.
	Fix string `json:"fix,omitempty"`
}

// The checks, in the order of a Report.
const (
	CheckConfig      = "config"                    // every variable glassbox reads parses
	CheckESReachable = "elasticsearch.reachable"   // a node answers, and it is Elasticsearch
	CheckESAuth      = "elasticsearch.auth"        // the credentials are accepted
	CheckESVersion   = "elasticsearch.version"     // 8.13 or newer
	CheckESTemplates = "elasticsearch.templates"   // the templates and ILM policy are installed and current
	CheckESData      = "elasticsearch.data"        // documents arrived in the last hour
	CheckESClock     = "elasticsearch.clock"       // the local clock agrees with the cluster's
	CheckDeadLetter  = "elasticsearch.dead_letter" // no document was rejected for good
	CheckOTLPTraces  = "otlp.traces"               // the collector accepts an (empty) trace export
	CheckOTLPLogs    = "otlp.logs"                 // the collector accepts an (empty) log export
	CheckOTLPMetrics = "otlp.metrics"              // the collector accepts an (empty) metrics export
	CheckSentry      = "sentry"                    // the DSN's ingest endpoint accepts the key
	CheckSpool       = "spool"                     // the spool directory is writable
)

// Names returns the names of the checks in report order.
func Names() []string {
	return []string{
		CheckConfig,
		CheckESReachable, CheckESAuth, CheckESVersion, CheckESTemplates, CheckESData, CheckESClock, CheckDeadLetter,
		CheckOTLPTraces, CheckOTLPLogs, CheckOTLPMetrics,
		CheckSentry,
		CheckSpool,
	}
}

// Options configure Run. The zero value reads no environment.
type Options struct {
	// Getenv reads the environment; nil reads nothing (every backend is
	// skipped). The CLI passes os.Getenv.
	Getenv func(string) string
	// Timeout bounds each check's network requests (those of the
	// templates and data checks together). Default 5 s.
	Timeout time.Duration
	// Now is the local clock the clock check compares with the cluster's.
	// Default time.Now.
	Now func() time.Time
}

// DefaultTimeout is the per-request timeout of Run when Options.Timeout
// is not positive.
const DefaultTimeout = 5 * time.Second

func (o *Options) fill() {
	if o.Getenv == nil {
		o.Getenv = func(string) string { return "" }
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Report is the outcome of Run: one Result per check, in the order of
// Names.
type Report struct {
	Checks []Result
}

// Healthy reports whether no check failed.
func (r *Report) Healthy() bool {
	for _, c := range r.Checks {
		if c.Status == Fail {
			return false
		}
	}
	return true
}

// Count returns how many checks ended in s.
func (r *Report) Count(s Status) int {
	n := 0
	for _, c := range r.Checks {
		if c.Status == s {
			n++
		}
	}
	return n
}

// Run reads the configuration and runs every check. The checks of
// different backends run in parallel; those of one backend in order, a
// failed prerequisite skipping the rest. Each check gives up after
// Options.Timeout (and when ctx ends). Run changes nothing anywhere: it creates
// no directory, installs nothing, and the only data it sends are empty
// OTLP exports and a Sentry client report that discards nothing.
func Run(ctx context.Context, o Options) *Report {
	o.fill()
	cfg := readConfig(o.Getenv)
	defer cfg.close()

	var (
		mu  sync.Mutex
		got = map[string]Result{CheckConfig: cfg.result}
		wg  sync.WaitGroup
	)
	run := func(check func() []Result) {
		wg.Go(func() {
			rs := check()
			mu.Lock()
			defer mu.Unlock()
			for _, r := range rs {
				got[r.Name] = r
			}
		})
	}
	run(func() []Result { return checkElasticsearch(ctx, o, cfg.es) })
	run(func() []Result { return []Result{checkDeadLetter(cfg.es)} })
	for _, t := range cfg.otlp {
		run(func() []Result { return []Result{checkOTLP(ctx, o, t)} })
	}
	run(func() []Result { return []Result{checkSentry(ctx, o, cfg.sentry)} })
	run(func() []Result { return []Result{checkSpool(cfg.spoolDir)} })
	wg.Wait()

	rep := &Report{}
	for _, name := range Names() {
		r, ok := got[name]
		if !ok { // a check that did not report: a bug, shown rather than hidden
			r = Result{Name: name, Status: Fail, Summary: "the check did not run"}
		}
		rep.Checks = append(rep.Checks, r)
	}
	return rep
}

// requestContext bounds the network requests of one check.
func requestContext(ctx context.Context, o Options) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, o.Timeout)
}

// timedOut replaces the error of a request that ctx cut off by one that
// says so plainly. A gRPC DeadlineExceeded is that too: the server ends
// the call at the deadline the client sent (grpc-timeout), and its answer
// can arrive a moment before the client's own timer fires.
func timedOut(ctx context.Context, err error, o Options) error {
	if err != nil && (errors.Is(ctx.Err(), context.DeadlineExceeded) || status.Code(err) == codes.DeadlineExceeded) {
		return fmt.Errorf("no answer within %v", o.Timeout)
	}
	return err
}

// sequence collects the results of a chain of checks, in order.
type sequence struct {
	names []string
	list  []Result
}

func newResults(names ...string) *sequence { return &sequence{names: names} }

// set records the next check's result.
func (s *sequence) set(st Status, summary, fix string) {
	s.add(Result{Name: s.names[len(s.list)], Status: st, Summary: summary, Fix: fix})
}

// add records r, the next check's result.
func (s *sequence) add(r Result) { s.list = append(s.list, r) }

// skipRest skips the checks not reached, saying why, and returns them all.
func (s *sequence) skipRest(reason string) []Result {
	for len(s.list) < len(s.names) {
		s.set(Skip, reason, "")
	}
	return s.list
}

// safe makes text from a server or an error fit for a terminal line.
func safe(s string) string { return textsafe.Sanitize(s, 300) }
