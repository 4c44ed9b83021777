package file

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"go.opentelemetry.io/otel"

	"github.com/glassbox-obs/glassbox/internal/errorhandler"
	"github.com/glassbox-obs/glassbox/log"
)

// The exporter's two streams, by index.
const (
	logsStream   = 0
	tracesStream = 1
)

// maxSpare is the largest write buffer kept for reuse; a burst's bigger
// buffer is left to the garbage collector.
const maxSpare = 1 << 20

// Exporter writes log documents and span documents as NDJSON files in one
// directory, one document per line, byte for byte what the Elasticsearch
// exporter sends. Use LogSink and SpanProcessor to plug it into the log
// handler and the TracerProvider; call Shutdown once, after both.
//
// All methods are safe for concurrent use. Writes copy the document into a
// byte-bounded queue and return: a background goroutine writes the files,
// so a slow disk never stalls a request. What cannot be queued or written
// is dropped and counted (see Stats).
type Exporter struct {
	cfg     config
	eh      otel.ErrorHandler
	streams [2]*stream // owned by the writer goroutine

	mu        sync.Mutex
	pend      [2][]byte // documents waiting, per stream
	pendN     [2]int
	spare     [2][]byte
	queued    int64 // bytes waiting or being written
	writing   int   // documents the writer holds
	writingB  int64 // and their bytes
	closed    bool  // Shutdown began: new documents are dropped
	abandoned bool  // Shutdown's deadline passed: the writer's documents are counted dropped
	st        counters

	wake     chan struct{}
	flushReq chan chan struct{}
	stop     chan struct{}
	done     chan struct{}
	closeErr error // set by the writer, under mu, before done is closed

	shutdownOnce sync.Once
	shutdownErr  error
}

// New creates the directory if needed, opens (appending to) the active
// files and starts the writer. It fails when no directory is configured or
// the files cannot be opened.
func New(opts ...Option) (*Exporter, error) {
	cfg := newConfig(opts)
	if cfg.dir == "" {
		return nil, errors.New("file: no directory: use WithDir or set " + EnvDir)
	}
	if err := os.MkdirAll(cfg.dir, 0o700); err != nil {
		return nil, fmt.Errorf("file: %w", err)
	}
	e := &Exporter{
		cfg:      cfg,
		eh:       errorhandler.RateLimited(cfg.errorHandler),
		wake:     make(chan struct{}, 1),
		flushReq: make(chan chan struct{}),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	suffix := "-" + log.DatasetName(cfg.service.Dataset) + "-" + log.DatasetName(cfg.service.Namespace)
	for i, kind := range [2]string{"logs", "traces"} {
		s := &stream{dir: cfg.dir, base: kind + suffix, maxBytes: cfg.maxBytes, maxFiles: cfg.maxFiles, now: time.Now}
		err := s.open()
		if err == nil {
			err = s.prune()
		}
		if err != nil {
			for _, o := range e.streams[:i] {
				o.close()
			}
			s.close()
			return nil, fmt.Errorf("file: %w", err)
		}
		e.streams[i] = s
	}
	if err := e.registerMetrics(cfg.meter); err != nil {
		for _, s := range e.streams {
			s.close()
		}
		return nil, fmt.Errorf("file: metrics: %w", err)
	}
	go e.run()
	return e, nil
}

// Files returns the paths of the active files: the logs file, then the
// traces file.
func (e *Exporter) Files() (logs, traces string) {
	return e.streams[logsStream].path(), e.streams[tracesStream].path()
}

// enqueue copies doc, one complete document (the log.Entry.Doc
// contract; span documents follow the same rules), as one line into
// stream i's queue. It never blocks on the disk.
func (e *Exporter) enqueue(i int, doc []byte) {
	size := int64(len(doc)) + 1
	e.mu.Lock()
	e.st.produced++
	switch {
	case e.closed:
		e.st.droppedShutdown++
		e.mu.Unlock()
		return
	case e.queued+size > e.cfg.queueBytes:
		e.st.droppedQueueFull++
		e.mu.Unlock()
		e.report(errQueueFull)
		return
	}
	before := len(e.pend[i])
	e.pend[i] = appendLine(e.pend[i], doc)
	e.pendN[i]++
	e.queued += int64(len(e.pend[i]) - before)
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

var errQueueFull = errors.New("file: queue full, newest record dropped")

// appendLine appends doc as one NDJSON line with its final '\n'.
func appendLine(dst, doc []byte) []byte {
	if n := len(doc); n > 0 && doc[n-1] == '\n' {
		doc = doc[:n-1]
	}
	dst = append(dst, doc...)
	return append(dst, '\n')
}

// run is the writer goroutine.
func (e *Exporter) run() {
	defer close(e.done)
	for {
		select {
		case <-e.wake:
			e.drain()
		case ch := <-e.flushReq:
			e.drain()
			close(ch)
		case <-e.stop:
			e.drain()
			var errs []error
			for _, s := range e.streams {
				if s.f != nil {
					if err := s.f.Sync(); err != nil {
						errs = append(errs, err)
					}
				}
				errs = append(errs, s.close())
			}
			e.mu.Lock()
			e.closeErr = errors.Join(errs...)
			abandoned := e.abandoned
			e.mu.Unlock()
			if abandoned && e.closeErr != nil {
				// Shutdown has returned: this is the only place left to
				// say that the files did not reach the disk.
				e.report(fmt.Errorf("file: closing after Shutdown: %w", e.closeErr))
			}
			return
		}
	}
}

// drain writes what is queued until the queue is empty.
func (e *Exporter) drain() {
	for {
		var bufs [2][]byte
		var ns [2]int
		e.mu.Lock()
		if e.abandoned || len(e.pend[0])+len(e.pend[1]) == 0 {
			e.mu.Unlock()
			return
		}
		for i := range bufs {
			bufs[i], ns[i] = e.pend[i], e.pendN[i]
			e.pend[i], e.pendN[i], e.spare[i] = e.spare[i][:0], 0, nil
		}
		e.writing = ns[0] + ns[1]
		e.writingB = int64(len(bufs[0]) + len(bufs[1]))
		e.mu.Unlock()

		var written, failed int
		var errs []error
		for i, b := range bufs {
			if len(b) == 0 {
				continue
			}
			w, err := e.streams[i].write(b)
			w = min(w, ns[i])
			written += w
			failed += ns[i] - w
			if err != nil {
				errs = append(errs, fmt.Errorf("file: %s: %w (%d documents lost)", e.streams[i].base, err, ns[i]-w))
			}
		}

		e.mu.Lock()
		if !e.abandoned { // else Shutdown settled these documents already
			e.queued -= e.writingB
			e.st.written += int64(written)
			e.st.droppedWrite += int64(failed)
		}
		e.writing, e.writingB = 0, 0
		for i, b := range bufs {
			if cap(b) <= maxSpare {
				e.spare[i] = b[:0]
			}
		}
		e.mu.Unlock()
		for _, err := range errs {
			e.report(err)
		}
	}
}

func (e *Exporter) report(err error) {
	e.mu.Lock()
	e.st.lastErr, e.st.lastAt = err.Error(), time.Now()
	e.mu.Unlock()
	e.eh.Handle(err)
}

// Flush waits until every document written before the call is in the
// files (handed to the operating system; not fsynced), or ctx is done.
func (e *Exporter) Flush(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ch := make(chan struct{})
	select {
	case e.flushReq <- ch:
	case <-e.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Shutdown stops accepting documents, writes what is queued, syncs and
// closes the files, returning by ctx's deadline. Documents still unwritten
// at the deadline are counted as dropped (Shutdown), so that in flight is
// zero once it returns. Calls after the first return its result.
func (e *Exporter) Shutdown(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	e.shutdownOnce.Do(func() {
		e.mu.Lock()
		e.closed = true
		e.mu.Unlock()
		close(e.stop)
		finished := func() {
			if e.closeErr != nil {
				e.shutdownErr = fmt.Errorf("file: %w", e.closeErr)
			}
		}
		select {
		case <-e.done: // first, also when ctx has expired already
			finished()
			return
		default:
		}
		select {
		case <-e.done:
			finished()
		case <-ctx.Done():
			e.mu.Lock()
			lost := e.pendN[0] + e.pendN[1] + e.writing
			e.abandoned = true
			e.st.droppedShutdown += int64(lost)
			e.queued -= int64(len(e.pend[0])+len(e.pend[1])) + e.writingB
			e.pend, e.pendN = [2][]byte{}, [2]int{}
			closeErr := e.closeErr // set if the writer finished meanwhile
			e.mu.Unlock()
			if closeErr != nil {
				e.shutdownErr = fmt.Errorf("file: %w", closeErr)
			}
			// A deadline that passed with nothing left to write (another
			// exporter used the time, say) loses nothing: no error. The
			// writer syncs and closes its files on its own, and reports
			// a failure to do so through the error handler.
			if lost > 0 {
				e.shutdownErr = errors.Join(e.shutdownErr, fmt.Errorf("file: shutdown: %w (%d documents not written)", ctx.Err(), lost))
			}
		}
	})
	return e.shutdownErr
}

// dropClosed counts n documents written to a sink or processor that was
// shut down.
func (e *Exporter) dropClosed(n int64) {
	e.mu.Lock()
	e.st.produced += n
	e.st.droppedShutdown += n
	e.mu.Unlock()
}
