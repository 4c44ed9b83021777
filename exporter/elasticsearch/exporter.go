package elasticsearch

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"

	"github.com/glassbox-obs/glassbox/internal/errorhandler"
	"github.com/glassbox-obs/glassbox/internal/spool"
)

// Exporter ships log documents and spans to Elasticsearch data streams
// with bulk requests. Use LogSink and SpanExporter to plug it into the log
// handler and the TracerProvider; call Shutdown once, after both.
//
// All methods are safe for concurrent use. Writes never block (unless the
// Block option is given) and never return a backend error: failures are
// counted in Stats and passed to the error handler.
type Exporter struct {
	cfg     config
	cluster *Cluster
	eh      otel.ErrorHandler
	spool   *spool.Spool
	dl      *deadLetter
	health  health
	senders []*sender // the workers' and the replayer's

	logsAction   string // `{"create":{"_index":"logs-<dataset>-<namespace>","_id":"`
	tracesAction string
	idPrefix     string
	idSeq        atomic.Uint64

	queue // the memory queue, see queue.go

	ctx        context.Context // canceled at the shutdown deadline
	cancel     context.CancelFunc
	stop       chan struct{}  // closed when Shutdown starts
	finished   chan struct{}  // closed when Shutdown's work is done (maybe after it returned)
	wg         sync.WaitGroup // workers, flusher, replayer, installer
	probeWG    sync.WaitGroup // the prober, stopped after the workers
	installed  chan struct{}  // closed once templates are in place (or not asked for)
	spooling   atomic.Bool    // with a spool: records wait there, so new batches go there too
	abort      atomic.Bool    // the shutdown grace is over: count instead of writing
	abandoned  atomic.Bool    // Shutdown returned before the workers finished
	replayWake chan struct{}
	gzFree     chan *gzState // reusable compressors

	st           counters
	shutdownOnce sync.Once
	shutdownErr  error
}

// New creates an Exporter configured by opts on top of the environment
// (see the options for the variables each one replaces) and starts its
// background workers. It does not contact Elasticsearch: the first bulk
// request (or the template installation, with WithTemplates) does. Errors
// name the environment variable or option at fault.
func New(opts ...Option) (*Exporter, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	cluster, err := newCluster(&cfg)
	if err != nil {
		return nil, err
	}
	var pfx [12]byte
	if _, err := rand.Read(pfx[:]); err != nil {
		return nil, fmt.Errorf("elasticsearch: %w", err)
	}
	e := &Exporter{
		cfg:        cfg,
		cluster:    cluster,
		eh:         errorhandler.RateLimited(cfg.errorHandler),
		idPrefix:   base64.RawURLEncoding.EncodeToString(pfx[:]),
		stop:       make(chan struct{}),
		finished:   make(chan struct{}),
		installed:  make(chan struct{}),
		replayWake: make(chan struct{}, 1),
		gzFree:     make(chan *gzState, cfg.concurrency+1),
	}
	e.queue.init(&e.cfg)
	e.health.init()
	e.logsAction = actionPrefix("logs", cfg.service)
	e.tracesAction = actionPrefix("traces", cfg.service)
	if err := e.openFiles(); err != nil {
		_ = cluster.Close(context.Background())
		return nil, err
	}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	e.start()
	return e, nil
}

// openFiles opens the spool and the dead-letter file and registers the
// metrics.
func (e *Exporter) openFiles() error {
	cfg := &e.cfg
	dlPath := cfg.deadLetter
	if cfg.spoolDir != "" {
		sp, err := spool.Open(cfg.spoolDir, spool.Options{MaxBytes: cfg.spoolBytes, Fsync: cfg.spoolFsync, WrapFile: cfg.spoolWrap})
		if err != nil {
			return fmt.Errorf("elasticsearch: %w", err)
		}
		e.spool = sp
		st := sp.Stats()
		if st.CorruptRecords > 0 {
			e.report(fmt.Errorf("elasticsearch: spool %s: %d damaged segment tails (%d bytes) dropped at start; the records before the damage are kept",
				cfg.spoolDir, st.CorruptRecords, st.CorruptBytes))
		}
		if st.Records > 0 {
			e.st.recovered.Store(st.Items)
			e.spooling.Store(true) // replay what the last run left before sending anew
		}
	}
	if dlPath == "" {
		dlPath = DefaultDeadLetterFile(cfg.spoolDir)
	}
	e.dl = newDeadLetter(dlPath, cfg.dlMaxBytes)
	if cfg.meter != nil {
		if err := e.registerMetrics(cfg.meter); err != nil {
			if e.spool != nil {
				_ = e.spool.Close()
			}
			return fmt.Errorf("elasticsearch: metrics: %w", err)
		}
	}
	return nil
}

// start launches the background goroutines.
func (e *Exporter) start() {
	if e.cfg.templates {
		e.wg.Add(1)
		go e.installLoop()
	} else {
		close(e.installed)
	}
	for i := 0; i < e.cfg.concurrency; i++ {
		s := newSender(e, false)
		e.senders = append(e.senders, s)
		e.wg.Add(1)
		go e.worker(s)
	}
	e.wg.Add(1)
	go e.flusher()
	if e.spool != nil {
		s := newSender(e, true)
		e.senders = append(e.senders, s)
		e.wg.Add(1)
		go e.replayer(s)
	}
	e.probeWG.Add(1)
	go e.prober()
}

// LogsDataStream is the data stream log documents go to.
func (e *Exporter) LogsDataStream() string { return DataStream("logs", e.cfg.service) }

// TracesDataStream is the data stream span documents go to.
func (e *Exporter) TracesDataStream() string { return DataStream("traces", e.cfg.service) }

// Cluster returns the connection the exporter sends through, for template
// installation or ad-hoc requests. Shutdown closes it.
func (e *Exporter) Cluster() *Cluster { return e.cluster }

// report passes a background failure to the error handler and remembers it.
func (e *Exporter) report(err error) {
	if err == nil {
		return
	}
	e.st.setLastError(err)
	e.eh.Handle(err)
}

// worker sends the batches of the queue, one at a time.
func (e *Exporter) worker(s *sender) {
	defer e.wg.Done()
	for {
		b := e.next()
		if b == nil {
			return
		}
		if !s.take(b) {
			continue
		}
		if e.cfg.spoolFsync {
			e.syncJournal(b)
		}
		if e.spool != nil && e.spooling.Load() {
			s.toSpool(b)
			continue
		}
		select {
		case <-e.installed:
		case <-e.stop:
			select {
			case <-e.installed:
			default:
				s.abandon(b) // templates never got installed: do not create streams without them
				continue
			}
		}
		s.deliver(b)
	}
}

// installLoop installs the templates, retrying with backoff, and then lets
// the workers send. Objects another tool manages are left alone (reported)
// and do not hold delivery up.
func (e *Exporter) installLoop() {
	defer e.wg.Done()
	for attempt := 1; ; attempt++ {
		_, err := e.cluster.InstallTemplates(e.ctx, InstallOptions{})
		if err == nil || errors.Is(err, ErrNotOwned) {
			e.report(err)
			close(e.installed)
			return
		}
		e.report(fmt.Errorf("elasticsearch: installing templates: %w", err))
		if errors.Is(err, context.Canceled) || !e.waitStop(e.backoff(attempt+2)) {
			return
		}
	}
}

// waitStop waits d unless Shutdown starts first.
func (e *Exporter) waitStop(d time.Duration) bool {
	t, stop := e.cfg.clock.after(d)
	defer stop()
	select {
	case <-t:
		return true
	case <-e.stop:
		return false
	}
}
