package soak

import (
	"hash/fnv"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/glassbox-obs/glassbox/internal/estest"
	"github.com/glassbox-obs/glassbox/internal/otlptest"
	"github.com/glassbox-obs/glassbox/internal/sentrytest"
)

// Fault is what the test servers do during a phase.
type Fault string

// The faults of the schedule. Each applies to the three test servers at
// once, where the fault means something for them.
const (
	Warmup   Fault = "warm-up" // healthy, not measured: connections, templates, first GCs
	Healthy  Fault = "healthy"
	Refused  Fault = "refused"   // connections refused: all three down
	Slow     Fault = "slow"      // every request held Config.Slow (5 s) before its answer
	Storm429 Fault = "429 storm" // every request 429 (OTLP and Sentry with Retry-After: 1)
	Storm503 Fault = "503 storm" // every request 503
	Partial  Fault = "partial"   // Elasticsearch: 30 % of bulk items fail with 503
	TooLarge Fault = "413"       // Elasticsearch: max content 256 KiB (batches split); OTLP, Sentry: every request 413
	Recovery Fault = "recovery"  // healthy again after a fault
)

// sinks names the sinks in report order.
var sinks = []string{"elasticsearch", "otlp spans", "otlp logs", "sentry"}

// world is the far end: the three test servers, their faults, and what
// they received, deduplicated by content.
type world struct {
	es     *estest.Server
	otlp   *otlptest.Server
	sentry *sentrytest.Server
	slow   time.Duration

	mu sync.Mutex
	// received counts what each sink's server stored, unique counts it by
	// content (a record stored twice under two IDs counts once).
	received map[string]int64
	seen     map[string]map[uint64]struct{}
	lastSeen map[string]time.Time // when received last grew
	sentryN  int                  // envelopes already counted
	// recovered is when the last fault ended; resumed, per sink, how long
	// after it the server received something again.
	recovered time.Time
	resumed   map[string]time.Duration
}

func newWorld(t testing.TB, slow time.Duration) *world {
	w := &world{
		otlp:     otlptest.NewHTTP(t),
		sentry:   sentrytest.NewServer(t),
		slow:     slow,
		received: map[string]int64{},
		seen:     map[string]map[uint64]struct{}{},
		lastSeen: map[string]time.Time{},
	}
	w.es = estest.New(t)
	for _, s := range sinks {
		w.seen[s] = map[uint64]struct{}{}
	}
	return w
}

// apply starts fault f on every server (Healthy and Recovery clear the
// previous one).
func (w *world) apply(f Fault) error {
	switch f {
	case Refused:
		for _, refuse := range []func(bool) error{w.es.SetRefused, w.otlp.SetRefused, w.sentry.SetRefused} {
			if err := refuse(true); err != nil {
				return err
			}
		}
	case Slow:
		w.es.SetDelay(w.slow)
		w.otlp.SetDelay(w.slow)
		w.sentry.SetDelay(w.slow)
	case Storm429:
		w.es.Inject(estest.Fault{Status: 429, Count: 1 << 30})
		w.otlpFailAll(otlptest.Fault{HTTPStatus: 429, RetryAfter: time.Second})
		w.sentry.SetRateLimit(&sentrytest.Limit{RetryAfter: 1})
	case Storm503:
		w.es.Inject(estest.Fault{Status: 503, Count: 1 << 30})
		w.otlpFailAll(otlptest.Fault{HTTPStatus: 503})
		w.sentry.SetStatus(503)
	case Partial:
		w.es.SetItemFailurePercent(30)
	case TooLarge:
		w.es.SetMaxContentLength(256 << 10)
		w.otlpFailAll(otlptest.Fault{HTTPStatus: 413})
		w.sentry.SetStatus(413)
	default:
		return w.clear()
	}
	return nil
}

func (w *world) otlpFailAll(f otlptest.Fault) {
	w.otlp.FailAll(otlptest.Traces, f)
	w.otlp.FailAll(otlptest.Logs, f)
}

// clear ends every fault.
func (w *world) clear() error {
	w.es.ClearFaults()
	w.es.SetDelay(0)
	w.es.SetItemFailurePercent(0)
	w.es.SetMaxContentLength(0)
	w.otlp.ClearFaults()
	w.otlp.SetDelay(0)
	w.sentry.SetRateLimit(nil)
	w.sentry.SetStatus(0)
	w.sentry.SetDelay(0)
	for _, refuse := range []func(bool) error{w.es.SetRefused, w.otlp.SetRefused, w.sentry.SetRefused} {
		if err := refuse(false); err != nil {
			return err
		}
	}
	return nil
}

// collect takes what the servers received since the last call, counts it
// and forgets it (so that their memory stays flat).
func (w *world) collect() {
	now := time.Now()
	var esDocs [][]byte
	w.es.Shed(func(d estest.Doc) { esDocs = append(esDocs, d.Source) })
	spans, logs := w.otlp.Take()
	envs := w.sentry.Envelopes()

	w.mu.Lock()
	defer w.mu.Unlock()
	add := func(sink string, key uint64) {
		if _, ok := w.resumed[sink]; !ok && !w.recovered.IsZero() {
			w.resumed[sink] = now.Sub(w.recovered)
		}
		w.received[sink]++
		w.seen[sink][key] = struct{}{}
		w.lastSeen[sink] = now
	}
	for _, src := range esDocs {
		add("elasticsearch", hash(src))
	}
	for _, s := range spans {
		add("otlp spans", hash(s.Span.GetSpanId()))
	}
	for _, l := range logs {
		b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(l.Record)
		add("otlp logs", hash(b))
	}
	for _, e := range envs[min(w.sentryN, len(envs)):] {
		for _, ev := range e.Events() {
			id, _ := ev["event_id"].(string)
			add("sentry", hash([]byte(id)))
		}
	}
	w.sentryN = len(envs)
}

// got returns what sink's server received, all and unique, and when it
// last received something.
func (w *world) got(sink string) (received, unique int64, last time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.received[sink], int64(len(w.seen[sink])), w.lastSeen[sink]
}

func hash(b []byte) uint64 {
	h := fnv.New64a()
	_, _ = h.Write(b)
	return h.Sum64()
}

// markRecovery notes that the faults ended at t: the next record each
// server receives tells how long delivery took to resume.
func (w *world) markRecovery(t time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.recovered, w.resumed = t, map[string]time.Duration{}
}

// resumes returns, per sink, how long after markRecovery its server
// received a record again; a sink that received nothing is missing.
func (w *world) resumes() map[string]time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]time.Duration{}
	for k, v := range w.resumed {
		out[k] = v
	}
	return out
}
