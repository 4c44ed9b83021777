package elasticsearch

import (
	"context"
	"errors"
	"time"
)

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
// Shutdown returns at most 500 ms after ctx's deadline, and when it returns
// every record is accounted for in Stats: nothing is in flight. At the
// deadline it aborts the requests in flight and lets the workers spool or
// drop what is left; what they have not settled when that grace ends is
// counted as Dropped.Shutdown (or Spooled, when a SpoolAlways journal holds
// it) and a worker stuck in a request or a disk write (a transport that
// ignores cancellation, a hung file system) finishes in the background
// without counting anything more; the spool is closed after it. Without a
// deadline Shutdown waits for everything to be delivered.
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
		fin := e.finished
		go func() {
			finErr = e.finish()
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
			e.writeOff()
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

// finish waits for the workers, then stops the prober and closes the
// spool, the dead-letter file and the connections.
func (e *Exporter) finish() error {
	e.wg.Wait()
	e.cancel()
	e.probeWG.Wait()
	var errs []error
	if e.spool != nil {
		errs = append(errs, e.spool.Sync(), e.spool.Close())
	}
	errs = append(errs, e.dl.close())
	cctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	_ = e.cluster.Close(cctx)
	cancel()
	return errors.Join(errs...)
}

// writeOff settles everything still held when the shutdown grace is over:
// what each sender holds and what is left in the queue is counted as
// dropped at shutdown, or as spooled when a journal holds it; the senders
// count nothing more.
func (e *Exporter) writeOff() {
	for _, s := range e.senders {
		s.writeOff()
	}
	for _, b := range e.takeAll() {
		e.writeOffBatch(b)
	}
}

// writeOffBatch counts a batch no sender will settle and releases it.
func (e *Exporter) writeOffBatch(b *batch) {
	n := int64(b.n())
	if b.j.intact() {
		e.st.spooled.Add(n)
	} else {
		e.st.droppedShutdown.Add(n)
	}
	e.st.inflight.Add(-n)
	e.release(b)
}
