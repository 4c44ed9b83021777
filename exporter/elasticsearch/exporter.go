package elasticsearch

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	es "github.com/elastic/go-elasticsearch/v8"
	"go.opentelemetry.io/otel"

	"github.com/glassbox-obs/glassbox/internal/errorhandler"
	"github.com/glassbox-obs/glassbox/internal/jsonenc"
	"github.com/glassbox-obs/glassbox/internal/spool"
	"github.com/glassbox-obs/glassbox/log"
)

// Exporter ships log documents and spans to Elasticsearch data streams
// with bulk requests. Use LogSink and SpanExporter to plug it into the log
// handler and the TracerProvider; call Shutdown once, after both.
//
// All methods are safe for concurrent use. Writes never block (unless the
// Block option is given) and never return a backend error: failures are
// counted in Stats and passed to the error handler.
type Exporter struct {
	cfg    config
	client *es.Client
	eh     otel.ErrorHandler
	spool  *spool.Spool
	dl     *deadLetter

	logsAction   string // `{"create":{"_index":"logs-<dataset>-<namespace>","_id":"`
	tracesAction string
	idPrefix     string
	idSeq        atomic.Uint64

	mu      sync.Mutex
	work    *sync.Cond // a batch is ready, or closing
	space   *sync.Cond // queue space was released, or closing
	cur     *batch
	ready   []*batch
	queued  int64
	closing bool
	free    []*batch // reusable batches
	maxFree int
	// Flush bookkeeping: every queued batch carries the generation of the
	// open batch it came from (its parts after a split or a partial retry
	// keep it); pending counts the unsettled batches per generation, and a
	// Flush waits only for the generations that existed when it began.
	gen      uint64
	pending  map[uint64]int
	flushers []flushWaiter

	ctx        context.Context // canceled at the shutdown deadline
	cancel     context.CancelFunc
	stop       chan struct{} // closed when Shutdown starts
	wg         sync.WaitGroup
	installed  chan struct{} // closed once templates are in place (or not asked for)
	down       atomic.Bool   // with a spool: Elasticsearch is failing, spool new batches
	abort      atomic.Bool   // the shutdown grace is over: drop (counted) instead of spooling
	abandoned  atomic.Bool   // Shutdown returned before the workers finished
	replayWake chan struct{}
	gzFree     chan *gzState // reusable compressors

	st           counters
	shutdownOnce sync.Once
	shutdownErr  error
	unregister   func()
}

// batch is one bulk body under construction or in flight: NDJSON
// action/document line pairs, with the offset of each item.
type batch struct {
	buf    []byte
	offs   []int
	bytes  int64  // queue bytes accounted to this batch
	gen    uint64 // Flush generation; 0 for replayed batches
	first  time.Time
	replay bool
}

func (b *batch) n() int { return len(b.offs) }

func (b *batch) item(i int) []byte {
	end := len(b.buf)
	if i+1 < len(b.offs) {
		end = b.offs[i+1]
	}
	return b.buf[b.offs[i]:end]
}

// getBatch takes a batch from the free list (e.mu held). A free list
// rather than a sync.Pool: the pool is emptied at every GC, and batches are
// large, so a pool would re-allocate one per flush.
func (e *Exporter) getBatch() *batch {
	if n := len(e.free); n > 0 {
		b := e.free[n-1]
		e.free[n-1] = nil
		e.free = e.free[:n-1]
		return b
	}
	return &batch{buf: make([]byte, 0, e.cfg.flushBytes+e.cfg.flushBytes/8)}
}

// putBatch returns a batch to the free list; it keeps enough for the
// workers, the open batch and a few ready ones (at most what the queue
// bound allows).
func (e *Exporter) putBatch(b *batch) {
	if b.replay || cap(b.buf) > 4*e.cfg.flushBytes+64<<10 {
		return
	}
	b.buf, b.offs, b.bytes, b.first, b.gen = b.buf[:0], b.offs[:0], 0, time.Time{}, 0
	e.mu.Lock()
	if len(e.free) < e.maxFree {
		e.free = append(e.free, b)
	}
	e.mu.Unlock()
}

// New creates an Exporter and starts its background workers. It does not
// contact Elasticsearch: the first bulk request (or the template
// installation, with WithTemplates) does.
func New(opts ...Option) (*Exporter, error) {
	cfg := newConfig(opts)
	ecfg := es.Config{
		Addresses:     cfg.addresses,
		CloudID:       cfg.cloudID,
		APIKey:        cfg.apiKey,
		Username:      cfg.username,
		Password:      cfg.password,
		CACert:        cfg.caCert,
		DisableRetry:  true, // retries are per item, below
		Transport:     cfg.transport,
		EnableMetrics: false,
	}
	if len(ecfg.Addresses) == 0 && ecfg.CloudID == "" {
		ecfg.Addresses = []string{"http://localhost:9200"}
	}
	if ecfg.Transport == nil && len(cfg.caCert) == 0 {
		ecfg.Transport = &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        4 * cfg.concurrency,
			MaxIdleConnsPerHost: 2 * cfg.concurrency,
			IdleConnTimeout:     90 * time.Second,
			ForceAttemptHTTP2:   true,
		}
	}
	client, err := es.NewClient(ecfg)
	if err != nil {
		return nil, fmt.Errorf("elasticsearch: %w", err)
	}
	var pfx [12]byte
	if _, err := rand.Read(pfx[:]); err != nil {
		return nil, fmt.Errorf("elasticsearch: %w", err)
	}
	e := &Exporter{
		cfg:        cfg,
		client:     client,
		eh:         errorhandler.RateLimited(cfg.errorHandler),
		idPrefix:   base64.RawURLEncoding.EncodeToString(pfx[:]),
		stop:       make(chan struct{}),
		installed:  make(chan struct{}),
		replayWake: make(chan struct{}, 1),
		gzFree:     make(chan *gzState, cfg.concurrency+1),
		pending:    make(map[uint64]int),
	}
	e.maxFree = cfg.concurrency + 2 + min(8, int(cfg.queueBytes/int64(cfg.flushBytes)))
	e.work = sync.NewCond(&e.mu)
	e.space = sync.NewCond(&e.mu)
	e.logsAction = actionPrefix("logs", cfg.service)
	e.tracesAction = actionPrefix("traces", cfg.service)
	dlPath := cfg.deadLetter
	if cfg.spoolDir != "" {
		sp, err := spool.Open(cfg.spoolDir, spool.Options{MaxBytes: cfg.spoolBytes})
		if err != nil {
			return nil, fmt.Errorf("elasticsearch: %w", err)
		}
		e.spool = sp
		if sp.Stats().Records > 0 {
			e.down.Store(true) // replay what the last run left before sending anew
		}
		if dlPath == "" {
			dlPath = cfg.spoolDir + "/dead-letter.ndjson"
		}
	}
	e.dl = newDeadLetter(dlPath, cfg.dlMaxBytes)
	if cfg.meter != nil {
		unreg, err := e.registerMetrics(cfg.meter)
		if err != nil {
			if e.spool != nil {
				_ = e.spool.Close()
			}
			return nil, fmt.Errorf("elasticsearch: metrics: %w", err)
		}
		e.unregister = unreg
	}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	if cfg.templates {
		e.wg.Add(1)
		go e.installLoop()
	} else {
		close(e.installed)
	}
	for i := 0; i < cfg.concurrency; i++ {
		e.wg.Add(1)
		go e.worker()
	}
	e.wg.Add(1)
	go e.flusher()
	if e.spool != nil {
		e.wg.Add(1)
		go e.replayer()
	}
	return e, nil
}

// actionPrefix builds the start of a create action line for the data
// stream <kind>-<dataset>-<namespace>.
func actionPrefix(kind string, s log.Service) string {
	b := []byte(`{"create":{"_index":`)
	b = jsonenc.AppendString(b, DataStream(kind, s))
	return string(append(b, `,"_id":"`...))
}

// DataStream returns the data stream name for kind ("logs" or "traces"):
// <kind>-<dataset>-<namespace>, with the dataset and namespace made valid.
func DataStream(kind string, s log.Service) string {
	ds := s.Dataset
	if ds == "" {
		ds = s.Name
	}
	ns := s.Namespace
	if ns == "" {
		ns = "default"
	}
	return kind + "-" + log.DatasetName(ds) + "-" + log.DatasetName(ns)
}

// LogsDataStream is the data stream log documents go to.
func (e *Exporter) LogsDataStream() string { return DataStream("logs", e.cfg.service) }

// TracesDataStream is the data stream span documents go to.
func (e *Exporter) TracesDataStream() string { return DataStream("traces", e.cfg.service) }

// Client returns the go-elasticsearch client the exporter uses.
func (e *Exporter) Client() *es.Client { return e.client }

// appendID appends a new document ID: the exporter's random prefix and a
// counter, base64url. A retried document keeps the ID it was given here.
func (e *Exporter) appendID(b []byte) []byte {
	b = append(b, e.idPrefix...)
	n := e.idSeq.Add(1)
	var tmp [11]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = idAlphabet[n&63]
		n >>= 6
		if n == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// enqueue appends one item (action line + document) to the open batch.
// id nil means a new client ID. doc is one complete NDJSON line (see
// log.Entry.Doc; span documents follow the same rules); a missing final
// '\n' is added.
func (e *Exporter) enqueue(action string, id []byte, doc []byte) {
	size := int64(len(action) + 32 + len(id) + len(doc) + 8)
	e.st.produced.Add(1)
	e.mu.Lock()
	for {
		if e.closing {
			e.mu.Unlock()
			e.st.droppedShutdown.Add(1)
			return
		}
		if e.queued+size <= e.cfg.queueBytes {
			break
		}
		if !e.cfg.block || size > e.cfg.queueBytes {
			e.mu.Unlock()
			e.st.droppedQueueFull.Add(1)
			e.report(errQueueFull)
			return
		}
		// Hand the open batch to the workers rather than wait for the
		// flush interval: its bytes are what would free the space.
		if e.cur != nil && e.cur.n() > 0 {
			e.ready = append(e.ready, e.cur)
			e.cur = nil
			e.work.Signal()
		}
		e.space.Wait()
	}
	b := e.cur
	if b == nil {
		b = e.getBatch()
		e.gen++
		b.gen = e.gen
		e.pending[b.gen]++
		e.cur = b
	}
	start := len(b.buf)
	b.offs = append(b.offs, start)
	b.buf = append(b.buf, action...)
	if id == nil {
		b.buf = e.appendID(b.buf)
	} else {
		b.buf = append(b.buf, id...)
	}
	b.buf = append(b.buf, "\"}}\n"...)
	b.buf = append(b.buf, doc...)
	if len(doc) == 0 || doc[len(doc)-1] != '\n' {
		b.buf = append(b.buf, '\n')
	}
	added := int64(len(b.buf) - start)
	b.bytes += added
	e.queued += added
	if len(b.buf) >= e.cfg.flushBytes {
		e.ready = append(e.ready, b)
		e.cur = nil
		e.work.Signal()
	}
	e.mu.Unlock()
}

var errQueueFull = errors.New("elasticsearch: queue full, newest record dropped")

// release returns a batch's queue bytes and settles it for Flush.
func (e *Exporter) release(b *batch) {
	e.mu.Lock()
	e.queued -= b.bytes
	b.bytes = 0
	if b.gen != 0 {
		if e.pending[b.gen]--; e.pending[b.gen] <= 0 {
			delete(e.pending, b.gen)
			e.wakeFlushers()
		}
		b.gen = 0
	}
	e.space.Broadcast()
	e.mu.Unlock()
	e.putBatch(b)
}

// flushWaiter is a Flush waiting for every batch of generation upTo or
// older to settle.
type flushWaiter struct {
	upTo uint64
	c    chan struct{}
}

// oldestPending is the oldest generation with an unsettled batch, or
// MaxUint64 when there is none (e.mu held). The map holds a few entries
// (bounded by the queue size over the flush size, plus splits).
func (e *Exporter) oldestPending() uint64 {
	oldest := uint64(math.MaxUint64)
	for g := range e.pending {
		oldest = min(oldest, g)
	}
	return oldest
}

// wakeFlushers releases the Flush calls whose batches have all settled
// (e.mu held).
func (e *Exporter) wakeFlushers() {
	if len(e.flushers) == 0 {
		return
	}
	oldest := e.oldestPending()
	keep := e.flushers[:0]
	for _, w := range e.flushers {
		if w.upTo < oldest {
			close(w.c)
		} else {
			keep = append(keep, w)
		}
	}
	clear(e.flushers[len(keep):])
	e.flushers = keep
}

func (e *Exporter) flusher() {
	defer e.wg.Done()
	t := time.NewTicker(e.cfg.interval)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
			e.seal()
		}
	}
}

// seal moves the open batch to the ready list.
func (e *Exporter) seal() {
	e.mu.Lock()
	if e.cur != nil && e.cur.n() > 0 {
		e.ready = append(e.ready, e.cur)
		e.cur = nil
		e.work.Signal()
	}
	e.mu.Unlock()
}

func (e *Exporter) next() *batch {
	e.mu.Lock()
	defer e.mu.Unlock()
	for len(e.ready) == 0 {
		if e.closing {
			if e.cur != nil && e.cur.n() > 0 {
				e.ready = append(e.ready, e.cur)
				e.cur = nil
				continue
			}
			return nil
		}
		e.work.Wait()
	}
	b := e.ready[0]
	e.ready[0] = nil
	e.ready = e.ready[1:]
	return b
}

func (e *Exporter) worker() {
	defer e.wg.Done()
	s := newSender(e)
	for {
		b := e.next()
		if b == nil {
			return
		}
		if e.spool != nil && e.down.Load() {
			e.toSpool(b)
			continue
		}
		select {
		case <-e.installed:
		case <-e.stop:
			select {
			case <-e.installed:
			default:
				e.abandon(b) // templates never got installed: do not create streams without them
				continue
			}
		}
		s.deliver(b)
	}
}

// Flush sends everything written before it was called and waits until
// each of those records is delivered, spooled, dead-lettered or dropped, or
// ctx is done. Records written while it waits do not hold it up: under
// steady traffic it returns once the earlier ones have settled.
func (e *Exporter) Flush(ctx context.Context) error {
	e.mu.Lock()
	if e.cur != nil && e.cur.n() > 0 {
		e.ready = append(e.ready, e.cur)
		e.cur = nil
		e.work.Signal()
	}
	upTo := e.gen
	if e.oldestPending() > upTo {
		e.mu.Unlock()
		return nil
	}
	c := make(chan struct{})
	e.flushers = append(e.flushers, flushWaiter{upTo: upTo, c: c})
	e.mu.Unlock()
	select {
	case <-c:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// shutdownGrace is how long Shutdown may take past ctx's deadline: the
// time it gives the workers, once their requests are aborted, to spool (or
// drop and count) what is left and to close the spool.
const shutdownGrace = 500 * time.Millisecond

// errShutdownUnfinished is returned (with ctx.Err()) when the grace after
// the deadline did not suffice.
var errShutdownUnfinished = errors.New("elasticsearch: shutdown: workers still busy after the grace period; they finish in the background")

// Shutdown flushes what it can by ctx's deadline, spools (with a spool) or
// drops and counts (without) what is left, stops the workers and closes
// files and connections. It returns ctx.Err() when the deadline cut the
// flush short. Later calls return the first call's result.
//
// Shutdown returns at most 500 ms after ctx's deadline. At the deadline it
// aborts the requests in flight and lets the workers spool or drop what is
// left; what they have not settled when that grace ends is dropped and
// counted in Stats.Dropped.Shutdown instead of spooled, and a worker stuck
// in a request or a disk write (a transport that ignores cancellation, a
// hung file system) finishes in the background: its records are then
// spooled, or counted as dropped, and the spool is closed after it. Without
// a deadline Shutdown waits for everything to be delivered.
func (e *Exporter) Shutdown(ctx context.Context) error {
	e.shutdownOnce.Do(func() {
		if ctx == nil {
			ctx = context.Background()
		}
		e.mu.Lock()
		e.closing = true
		e.work.Broadcast()
		e.space.Broadcast()
		e.mu.Unlock()
		close(e.stop)
		var finErr error
		fin := make(chan struct{})
		go func() {
			e.wg.Wait()
			e.cancel()
			var errs []error
			if e.spool != nil {
				errs = append(errs, e.spool.Sync(), e.spool.Close())
			}
			errs = append(errs, e.dl.close())
			if e.unregister != nil {
				e.unregister()
			}
			cctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
			_ = e.client.Close(cctx)
			cancel()
			finErr = errors.Join(errs...)
			close(fin)
			if e.abandoned.Load() && finErr != nil {
				e.report(finErr) // Shutdown has returned without it
			}
		}()
		select {
		case <-fin:
			e.shutdownErr = finErr
			return
		case <-ctx.Done():
		}
		e.cancel() // abort requests and backoff waits; workers spool or drop
		grace := time.NewTimer(shutdownGrace)
		defer grace.Stop()
		select {
		case <-fin:
			e.shutdownErr = errors.Join(ctx.Err(), finErr)
		case <-grace.C:
			e.abort.Store(true)
			e.abandoned.Store(true)
			select {
			case <-fin:
				e.shutdownErr = errors.Join(ctx.Err(), finErr)
			default:
				e.shutdownErr = errors.Join(ctx.Err(), errShutdownUnfinished)
			}
		}
	})
	return e.shutdownErr
}

// report passes a background failure to the error handler and remembers it.
func (e *Exporter) report(err error) {
	if err == nil {
		return
	}
	e.st.setLastError(err)
	e.eh.Handle(err)
}

// toSpool writes a batch to the spool (dropping and counting it when the
// spool cannot take it) and releases its memory.
func (e *Exporter) toSpool(b *batch) {
	if e.abort.Load() {
		e.st.droppedShutdown.Add(int64(b.n()))
		e.release(b)
		return
	}
	if err := e.spool.Append(b.n(), b.buf); err != nil {
		e.st.droppedSpoolFull.Add(int64(b.n()))
		e.report(fmt.Errorf("elasticsearch: spool: %w (%d records dropped)", err, b.n()))
	} else {
		e.st.spooled.Add(int64(b.n()))
	}
	e.release(b)
	select {
	case e.replayWake <- struct{}{}:
	default:
	}
}

// sleep waits d or until the exporter is stopped for good; it reports
// whether the full wait happened.
func (e *Exporter) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-e.ctx.Done():
		return false
	}
}
