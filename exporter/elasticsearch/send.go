package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/glassbox-obs/glassbox/internal/ecs"
)

// sender is one worker's reusable state.
type sender struct {
	e    *Exporter
	rbuf []byte
}

func newSender(e *Exporter) *sender {
	return &sender{e: e, rbuf: make([]byte, 16<<10)}
}

// gzipBody is a request body that compresses the batch as the transport
// reads it, so that compressing overlaps with sending and with the
// server's decompressing instead of preceding them. It owns its state
// until the transport closes it (which may happen after the response).
type gzipBody struct {
	e      *Exporter
	gz     *gzState      // nil without compression
	plain  *bytes.Reader // the uncompressed body, without compression
	src    []byte
	off    int
	done   bool
	once   sync.Once
	closed chan struct{}
}

type gzState struct {
	zw  *gzip.Writer
	out bytes.Buffer
}

func (e *Exporter) getGz() *gzState {
	select {
	case g := <-e.gzFree:
		return g
	default:
	}
	g := &gzState{}
	var err error
	if g.zw, err = gzip.NewWriterLevel(&g.out, e.cfg.gzipLevel); err != nil {
		g.zw, _ = gzip.NewWriterLevel(&g.out, gzip.BestSpeed)
	}
	return g
}

func (b *gzipBody) Read(p []byte) (int, error) {
	if b.plain != nil {
		return b.plain.Read(p)
	}
	g := b.gz
	if g == nil {
		return 0, io.ErrClosedPipe
	}
	for g.out.Len() == 0 {
		if b.done {
			return 0, io.EOF
		}
		if b.off < len(b.src) {
			n := min(64<<10, len(b.src)-b.off)
			_, _ = g.zw.Write(b.src[b.off : b.off+n])
			b.off += n
			continue
		}
		_ = g.zw.Close()
		b.done = true
	}
	n, _ := g.out.Read(p)
	b.e.st.wireBytes.Add(int64(n))
	return n, nil
}

// Close hands the compressor back for reuse.
func (b *gzipBody) Close() error {
	b.once.Do(func() {
		if g := b.gz; g != nil {
			b.gz = nil
			g.out.Reset()
			select {
			case b.e.gzFree <- g:
			default:
			}
		}
		close(b.closed)
	})
	return nil
}

// outcome of one bulk request.
type outcome struct {
	err      error // the whole request failed and may be retried
	tooLarge bool  // 413
	fatal    error // the whole request was rejected for good (400-class)
	status   int
	items    []itemOutcome // nil when every item succeeded (fast path)
}

type itemOutcome struct {
	Status int             `json:"status"`
	Error  json.RawMessage `json:"error"`
}

type bulkResponse struct {
	Errors bool                     `json:"errors"`
	Items  []map[string]itemOutcome `json:"items"`
}

var errorsFalse = []byte(`"errors":false`)

// send posts b once.
func (s *sender) send(b *batch) outcome {
	e := s.e
	ctx, cancel := context.WithTimeout(e.ctx, e.cfg.timeout)
	defer cancel()
	// The transport may read and close the body after Perform returns (an
	// early answer such as 413); b.buf must not be reused before that, so
	// the request is canceled and the body's Close awaited on return.
	body := &gzipBody{e: e, src: b.buf, closed: make(chan struct{})}
	if e.cfg.noGzip {
		body.plain = bytes.NewReader(b.buf)
		e.st.wireBytes.Add(int64(len(b.buf)))
	} else {
		body.gz = e.getGz()
		body.gz.zw.Reset(&body.gz.out)
	}
	defer func() {
		cancel()
		<-body.closed
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "/_bulk", body)
	if err != nil {
		body.Close()
		return outcome{fatal: err}
	}
	if e.cfg.noGzip {
		req.ContentLength = int64(len(b.buf))
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	if !e.cfg.noGzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	e.st.requests.Add(1)
	res, err := e.client.Perform(req)
	if err != nil {
		return outcome{err: fmt.Errorf("elasticsearch: bulk request: %w", err)}
	}
	defer res.Body.Close()
	switch {
	case res.StatusCode == http.StatusOK:
	case res.StatusCode == http.StatusRequestEntityTooLarge:
		_, _ = io.Copy(io.Discard, res.Body)
		return outcome{tooLarge: true, status: 413}
	case res.StatusCode == 429 || res.StatusCode == 408 || res.StatusCode >= 500 ||
		res.StatusCode == 401 || res.StatusCode == 403:
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 2048))
		return outcome{err: fmt.Errorf("elasticsearch: bulk request: HTTP %d: %s", res.StatusCode, bytes.TrimSpace(msg)), status: res.StatusCode}
	default:
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 2048))
		return outcome{fatal: fmt.Errorf("HTTP %d: %s", res.StatusCode, bytes.TrimSpace(msg)), status: res.StatusCode}
	}
	// Fast path: read the head only; "errors":false means every item is in.
	n, _ := io.ReadFull(res.Body, s.rbuf)
	if bytes.Contains(s.rbuf[:n], errorsFalse) {
		// Skip the items, checking only that the response is complete.
		last := lastNonSpace(s.rbuf[:n], 0)
		for {
			m, err := res.Body.Read(s.rbuf)
			last = lastNonSpace(s.rbuf[:m], last)
			if err == io.EOF {
				break
			}
			if err != nil {
				return outcome{err: fmt.Errorf("elasticsearch: reading bulk response: %w", err)}
			}
		}
		if last != '}' {
			return outcome{err: errors.New("elasticsearch: truncated bulk response")}
		}
		return outcome{}
	}
	rest, err := io.ReadAll(res.Body)
	if err != nil {
		return outcome{err: fmt.Errorf("elasticsearch: reading bulk response: %w", err)}
	}
	full := append(append([]byte(nil), s.rbuf[:n]...), rest...)
	var br bulkResponse
	if err := json.Unmarshal(full, &br); err != nil {
		return outcome{err: fmt.Errorf("elasticsearch: malformed bulk response: %w", err)}
	}
	if len(br.Items) != b.n() {
		return outcome{err: fmt.Errorf("elasticsearch: bulk response has %d items for %d sent", len(br.Items), b.n())}
	}
	items := make([]itemOutcome, len(br.Items))
	for i, it := range br.Items {
		for _, v := range it {
			items[i] = v
		}
	}
	return outcome{items: items}
}

func lastNonSpace(b []byte, prev byte) byte {
	for i := len(b) - 1; i >= 0; i-- {
		switch b[i] {
		case ' ', '\n', '\r', '\t':
			continue
		}
		return b[i]
	}
	return prev
}

// backoff is the wait before attempt (1-based): full jitter over an
// exponentially growing cap.
func (e *Exporter) backoff(attempt int) time.Duration {
	cap := e.cfg.backoffMin
	for i := 1; i < attempt && cap < e.cfg.backoffMax; i++ {
		cap *= 2
	}
	if cap > e.cfg.backoffMax {
		cap = e.cfg.backoffMax
	}
	return time.Duration(rand.Int64N(int64(cap) + 1))
}

func retryableStatus(st int) bool { return st == 429 || st == 408 || st >= 500 }

// deliver sends a batch until each item is delivered, a duplicate,
// dead-lettered, spooled or dropped. For a replayed batch it returns false
// on a whole-request failure, leaving the records in the spool.
func (s *sender) deliver(b *batch) bool {
	e := s.e
	if b.first.IsZero() {
		b.first = time.Now()
	}
	attempt := 0
	for {
		if e.ctx.Err() != nil {
			if b.replay {
				return false
			}
			e.abandon(b)
			return true
		}
		out := s.send(b)
		switch {
		case out.err != nil:
			if e.ctx.Err() != nil {
				continue
			}
			e.report(out.err)
			if b.replay {
				return false
			}
			if e.spool != nil {
				e.down.Store(true)
				e.toSpool(b)
				return true
			}
			if time.Since(b.first) > e.cfg.maxElapsed {
				e.st.droppedRetry.Add(int64(b.n()))
				e.report(fmt.Errorf("elasticsearch: gave up after %v: %d records dropped", e.cfg.maxElapsed, b.n()))
				e.release(b)
				return true
			}
			attempt++
			e.st.retried.Add(int64(b.n()))
			e.sleep(e.backoff(attempt))
			continue
		case out.tooLarge:
			if b.n() == 1 {
				e.deadLetter(b.item(0), 413, []byte(`{"type":"request_entity_too_large","reason":"the document alone exceeds http.max_content_length"}`))
				e.release(b)
				return true
			}
			half := b.n() / 2
			left, right := e.subset(b, 0, half, nil), e.subset(b, half, b.n(), nil)
			e.replaceBatch(b, left, right)
			okL := s.deliver(left)
			okR := s.deliver(right)
			return okL && okR
		case out.fatal != nil:
			if nb := e.reframe(b); nb != nil {
				b = nb
				continue
			}
			reason, _ := json.Marshal(map[string]string{"type": "bulk_request_rejected", "reason": out.fatal.Error()})
			for i := 0; i < b.n(); i++ {
				e.deadLetter(b.item(i), out.status, reason)
			}
			e.report(fmt.Errorf("elasticsearch: bulk request rejected, %d records dead-lettered: %w", b.n(), out.fatal))
			e.release(b)
			return true
		case out.items == nil:
			e.st.delivered.Add(int64(b.n()))
			e.release(b)
			return true
		}
		var retry []int
		var repaired [][]byte
		var firstErr []byte
		for i, it := range out.items {
			switch {
			case it.Status == 200 || it.Status == 201:
				e.st.delivered.Add(1)
			case it.Status == 409:
				e.st.duplicates.Add(1)
			case retryableStatus(it.Status):
				retry = append(retry, i)
			default:
				if fixed, ok := repairItem(b.item(i), it.Error); ok {
					repaired = append(repaired, fixed)
					continue
				}
				e.deadLetter(b.item(i), it.Status, it.Error)
				if firstErr == nil {
					firstErr = it.Error
				}
			}
		}
		if firstErr != nil {
			e.report(fmt.Errorf("elasticsearch: document rejected, written to the dead-letter file: %s", firstErr))
		}
		if len(retry) == 0 && len(repaired) == 0 {
			e.release(b)
			return true
		}
		nb := e.subset(b, 0, 0, retry)
		for _, item := range repaired {
			nb.offs = append(nb.offs, len(nb.buf))
			nb.buf = append(nb.buf, item...)
		}
		e.st.repaired.Add(int64(len(repaired)))
		nb.first, nb.replay = b.first, b.replay
		e.replaceBatch(b, nb)
		b = nb
		if !b.replay && time.Since(b.first) > e.cfg.maxElapsed {
			if e.spool != nil {
				e.toSpool(b)
				return true
			}
			e.st.droppedRetry.Add(int64(b.n()))
			e.report(fmt.Errorf("elasticsearch: gave up after %v: %d records dropped", e.cfg.maxElapsed, b.n()))
			e.release(b)
			return true
		}
		attempt++
		e.st.retried.Add(int64(len(retry)))
		if len(retry) == 0 {
			continue // only repaired documents: send them now
		}
		if b.replay {
			if !e.wait(e.backoff(attempt)) {
				return false
			}
			continue
		}
		e.sleep(e.backoff(attempt))
	}
}

// reframe answers a bulk request rejected as a whole. enqueue does not
// look for line breaks inside documents (the log.Entry contract rules
// them out), but one would break the NDJSON framing of every item after
// it: so when a request fails, the line breaks inside documents become
// spaces (counted as Repaired) and the batch is returned to be sent again.
// It returns nil when no document has one.
func (e *Exporter) reframe(b *batch) *batch {
	var nb *batch
	for i := 0; i < b.n(); i++ {
		it := b.item(i)
		if bytes.Count(it, []byte{'\n'}) == 2 {
			continue
		}
		if nb == nil {
			nb = e.subset(b, 0, b.n(), nil)
		}
		it = nb.item(i)
		doc := it[bytes.IndexByte(it, '\n')+1 : len(it)-1]
		for j, c := range doc {
			if c == '\n' {
				doc[j] = ' '
			}
		}
		e.st.repaired.Add(1)
	}
	if nb != nil {
		e.report(errors.New("elasticsearch: line breaks inside a document became spaces (log.Entry.Doc must be one line)"))
		e.replaceBatch(b, nb)
	}
	return nb
}

// repairItem is the safety net for a document that Elasticsearch
// rejected because a top-level key is a metadata field name (a top-level
// "_id" is common). glassbox's encoders never write one (see ecs.Keys);
// a document from another producer of log.Entry values may. The offending
// keys are renamed by ecs.RenameMetadataFields ("_id" becomes "_id_2"),
// so the record is stored instead of dead-lettered, and counted as
// Repaired. It reports false for any other error, or when there is
// nothing to rename (so a repair is tried once).
func repairItem(item, reason []byte) ([]byte, bool) {
	if !bytes.Contains(reason, []byte("is a metadata field and cannot be added inside a document")) {
		return nil, false
	}
	nl := bytes.IndexByte(item, '\n')
	if nl < 0 {
		return nil, false
	}
	doc, changed := ecs.RenameMetadataFields(item[nl+1:])
	if !changed {
		return nil, false
	}
	out := make([]byte, 0, len(item)+8)
	out = append(out, item[:nl+1]...)
	return append(out, doc...), true
}

// subset copies items [from,to) of b, or the items listed in idx, into a
// new batch.
func (e *Exporter) subset(b *batch, from, to int, idx []int) *batch {
	nb := &batch{first: b.first, replay: b.replay}
	add := func(i int) {
		nb.offs = append(nb.offs, len(nb.buf))
		nb.buf = append(nb.buf, b.item(i)...)
	}
	if idx != nil {
		for _, i := range idx {
			add(i)
		}
	} else {
		for i := from; i < to; i++ {
			add(i)
		}
	}
	return nb
}

// replaceBatch moves b's queue accounting to its parts.
func (e *Exporter) replaceBatch(b *batch, parts ...*batch) {
	if b.replay {
		return
	}
	e.mu.Lock()
	for _, p := range parts {
		p.bytes = int64(len(p.buf))
		e.queued += p.bytes
		if b.gen != 0 {
			p.gen = b.gen
			e.pending[p.gen]++
		}
	}
	e.mu.Unlock()
	e.release(b)
}

// abandon disposes of a batch at the shutdown deadline.
func (e *Exporter) abandon(b *batch) {
	if e.spool != nil {
		e.toSpool(b)
		return
	}
	e.st.droppedShutdown.Add(int64(b.n()))
	e.release(b)
}

// replayer sends spooled batches, oldest first, when Elasticsearch takes
// requests again; while it fails, it probes with backoff.
func (e *Exporter) replayer() {
	defer e.wg.Done()
	s := newSender(e)
	attempt := 0
	for {
		if e.spool.Stats().Records == 0 {
			e.down.Store(false)
			select {
			case <-e.stop:
				return
			case <-e.replayWake:
			}
			if e.spool.Stats().Records == 0 {
				continue
			}
			// Give the failing requests a moment before probing.
			if !e.wait(e.backoff(1)) {
				return
			}
		}
		select {
		case <-e.installed:
		case <-e.stop:
			return
		}
		seg, err := e.spool.Next()
		if err != nil {
			e.report(err)
			if !e.wait(e.backoff(3)) {
				return
			}
			continue
		}
		if seg == nil {
			continue
		}
		i := 0
		for i < len(seg.Records) {
			rec := seg.Records[i]
			b := &batch{buf: rec.Payload, replay: true, offs: itemOffsets(rec.Payload)}
			if s.deliver(b) {
				e.st.replayed.Add(int64(rec.Items))
				i++
				attempt = 0
				continue
			}
			attempt++
			if !e.wait(e.backoff(attempt)) {
				return
			}
		}
		if err := e.spool.Remove(seg); err != nil {
			e.report(err)
		}
	}
}

// wait sleeps d unless Shutdown starts first.
func (e *Exporter) wait(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-e.stop:
		return false
	}
}

// itemOffsets finds the start of each action/document line pair.
func itemOffsets(p []byte) []int {
	var offs []int
	line := 0
	for off := 0; off < len(p); {
		if line%2 == 0 {
			offs = append(offs, off)
		}
		nl := bytes.IndexByte(p[off:], '\n')
		if nl < 0 {
			break
		}
		off += nl + 1
		line++
	}
	return offs
}

// installLoop installs the templates, retrying with backoff, and then lets
// the workers send.
func (e *Exporter) installLoop() {
	defer e.wg.Done()
	for attempt := 1; ; attempt++ {
		err := InstallTemplates(e.ctx, e.client, e.cfg.retention)
		if err == nil {
			close(e.installed)
			return
		}
		e.report(fmt.Errorf("elasticsearch: installing templates: %w", err))
		if errors.Is(err, context.Canceled) || !e.wait(e.backoff(attempt+2)) {
			return
		}
	}
}
