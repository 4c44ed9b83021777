package elasticsearch

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// sender is the state of one goroutine that sends batches: a worker, or
// the replayer. It counts what it settles, so that the records it holds
// can be written off at once when Shutdown gives up waiting for it.
type sender struct {
	e        *Exporter
	replayer bool
	rbuf     []byte

	mu         sync.Mutex
	owned      int64 // items of this run it holds, unsettled
	journaled  bool  // they are all in a journal (SpoolAlways)
	writtenOff bool  // Shutdown returned without it: count nothing more
}

func newSender(e *Exporter, replayer bool) *sender {
	return &sender{e: e, replayer: replayer, rbuf: make([]byte, 16<<10)}
}

// take makes the sender responsible for a batch from the queue; false
// (with the batch counted and released) when it was written off already.
func (s *sender) take(b *batch) bool {
	s.mu.Lock()
	if s.writtenOff {
		s.mu.Unlock()
		s.e.writeOffBatch(b)
		return false
	}
	s.owned += int64(b.n())
	s.journaled = b.j.intact()
	s.mu.Unlock()
	return true
}

// settle counts n items of b with counter c. Items of this run leave the
// in-flight count; replayed ones (never in it) count as replayed.
func (s *sender) settle(b *batch, c interface{ Add(int64) int64 }, n int) {
	if n == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.writtenOff {
		return
	}
	c.Add(int64(n))
	if b.replay {
		s.e.st.replayed.Add(int64(n))
	} else {
		s.owned -= int64(n)
		s.e.st.inflight.Add(-int64(n))
	}
}

// writeOff counts what the sender holds as lost at shutdown (or as
// spooled, when it is in a journal) and stops its counting.
func (s *sender) writeOff() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.writtenOff {
		return
	}
	s.writtenOff = true
	if s.owned == 0 {
		return
	}
	if s.journaled {
		s.e.st.spooled.Add(s.owned)
	} else {
		s.e.st.droppedShutdown.Add(s.owned)
	}
	s.e.st.inflight.Add(-s.owned)
	s.owned = 0
}

// deliver sends b until every item is settled: delivered, a duplicate,
// dead-lettered, spooled or dropped. A replayed batch instead comes back
// (what is left of it) when a whole request fails or shutdown begins, for
// the replayer to retry; otherwise deliver returns nil.
func (s *sender) deliver(b *batch) *batch {
	e := s.e
	if b.first.IsZero() {
		b.first = e.cfg.clock.now()
	}
	todo := []*batch{b}
	attempt := 0
	for len(todo) > 0 {
		b := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		for b != nil {
			if s.stopping() {
				if b.replay {
					return joinBatches(append(todo, b)...)
				}
				s.abandon(b)
				break
			}
			if !b.replay && !s.awaitReachable(b) {
				break
			}
			out := s.send(b)
			switch {
			case out.err != nil:
				if s.stopping() {
					continue
				}
				if b.replay {
					s.requestFailed(nil, out, nil)
					return joinBatches(append(todo, b)...)
				}
				b = s.requestFailed(b, out, &attempt)
			case out.tooLarge:
				var right *batch
				if b, right = s.split(b); right != nil {
					todo = append(todo, right)
				}
			case out.fatal != nil:
				if nb := e.reframe(b); nb != nil {
					b = nb
					continue
				}
				s.rejectAll(b, out)
				b = nil
			case out.items == nil:
				e.health.succeeded()
				s.settle(b, &e.st.delivered, b.n())
				e.release(b)
				b = nil
			default:
				e.health.succeeded()
				var ok bool
				if b, ok = s.itemResults(b, out.items, &attempt); !ok && b != nil && b.replay {
					return joinBatches(append(todo, b)...)
				}
			}
		}
	}
	return nil
}

// split halves a batch Elasticsearch found too large (413); a single
// document too large is dead-lettered (nil, nil).
func (s *sender) split(b *batch) (left, right *batch) {
	e := s.e
	if b.n() == 1 {
		s.deadLetter(b, b.item(0), 413, []byte(`{"type":"request_entity_too_large","reason":"the document alone exceeds http.max_content_length"}`))
		e.release(b)
		return nil, nil
	}
	half := b.n() / 2
	left, right = e.subset(b, 0, half, nil), e.subset(b, half, b.n(), nil)
	e.replaceBatch(b, left, right)
	return left, right
}

// stopping reports whether the sender must stop sending: the shutdown
// deadline for a worker, the start of Shutdown for the replayer (what it
// has not sent stays in the spool).
func (s *sender) stopping() bool {
	if s.replayer {
		select {
		case <-s.e.stop:
			return true
		default:
		}
	}
	return s.e.ctx.Err() != nil
}

// requestFailed handles a whole-request failure of b (nil for a replayed
// batch, which the replayer retries): an unreachable cluster is left to
// the prober (awaitReachable waits for it), an error answer is retried
// after a backoff. With a spool the batch goes there instead. It returns
// the batch to send again, or nil once it is settled.
func (s *sender) requestFailed(b *batch, out outcome, attempt *int) *batch {
	e := s.e
	e.report(out.err)
	if out.unreachable {
		e.health.markDown()
	}
	if b == nil {
		return nil
	}
	if e.spool != nil {
		e.spooling.Store(true)
		s.toSpool(b)
		return nil
	}
	if e.cfg.clock.now().Sub(b.first) > e.cfg.maxElapsed {
		s.giveUp(b)
		return nil
	}
	e.st.retried.Add(int64(b.n()))
	if out.unreachable {
		return b
	}
	*attempt++
	s.pause(e.backoff(*attempt), true) // cut short: abandoned at the loop's top
	return b
}

// awaitReachable holds a batch while the cluster cannot be reached, until
// the prober finds it again (true). With a spool the batch goes there
// instead; past the maximum elapsed time it is dropped, at the shutdown
// deadline abandoned (false: settled).
func (s *sender) awaitReachable(b *batch) bool {
	e := s.e
	up := e.health.reachable()
	if up == nil {
		return true
	}
	if e.spool != nil {
		e.spooling.Store(true)
		s.toSpool(b)
		return false
	}
	left := e.cfg.maxElapsed - e.cfg.clock.now().Sub(b.first)
	if left <= 0 {
		s.giveUp(b)
		return false
	}
	t, stop := e.cfg.clock.after(left)
	defer stop()
	select {
	case <-up:
		return true
	case <-t:
		s.giveUp(b)
	case <-e.ctx.Done():
		s.abandon(b)
	}
	return false
}

// giveUp settles a batch retried longer than the maximum elapsed time:
// spooled, or dropped and counted.
func (s *sender) giveUp(b *batch) {
	e := s.e
	if e.spool != nil {
		s.toSpool(b)
		return
	}
	s.settle(b, &e.st.droppedRetry, b.n())
	e.report(fmt.Errorf("elasticsearch: gave up after %v: %d records dropped", e.cfg.maxElapsed, b.n()))
	e.release(b)
}

// rejectAll dead-letters every item of a request Elasticsearch rejected
// as a whole for good (a 400-class answer).
func (s *sender) rejectAll(b *batch, out outcome) {
	reason, _ := json.Marshal(map[string]string{"type": "bulk_request_rejected", "reason": out.fatal.Error()})
	for i := 0; i < b.n(); i++ {
		s.deadLetter(b, b.item(i), out.status, reason)
	}
	s.e.report(fmt.Errorf("elasticsearch: bulk request rejected, %d records dead-lettered: %w", b.n(), out.fatal))
	s.e.release(b)
}

// deadLetter writes one item to the dead-letter file and counts it.
func (s *sender) deadLetter(b *batch, item []byte, status int, reason []byte) {
	s.settle(b, &s.e.st.deadLettered, 1)
	if err := s.e.dl.write(item, status, reason); err != nil {
		s.e.report(err)
	}
}

// abandon settles a batch at the shutdown deadline: spooled, or dropped
// and counted.
func (s *sender) abandon(b *batch) {
	if s.e.spool != nil {
		s.toSpool(b)
		return
	}
	s.settle(b, &s.e.st.droppedShutdown, b.n())
	s.e.release(b)
}

// backoff is the wait before attempt (1-based): full jitter over an
// exponentially growing cap.
func (e *Exporter) backoff(attempt int) time.Duration {
	cap := e.cfg.backoffMin
	for i := 1; i < attempt && cap < e.cfg.backoffMax; i++ {
		cap *= 2
	}
	cap = min(cap, e.cfg.backoffMax)
	return time.Duration(rand.Int64N(int64(cap) + 1))
}

// pause waits d, or less when untilSuccess and another request succeeds
// meanwhile; false when the sender must stop instead.
func (s *sender) pause(d time.Duration, untilSuccess bool) bool {
	e := s.e
	var ok <-chan struct{}
	if untilSuccess {
		ok = e.health.nextSuccess()
	}
	done := e.ctx.Done()
	if s.replayer {
		done = e.stop
	}
	t, stop := e.cfg.clock.after(d)
	defer stop()
	select {
	case <-t:
		return true
	case <-ok:
		return true
	case <-done:
		return false
	}
}
