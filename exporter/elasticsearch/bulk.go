package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/klauspost/compress/gzip"
)

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
	err         error // the whole request failed and may be retried
	unreachable bool  // err: no answer at all (or not from Elasticsearch)
	tooLarge    bool  // 413
	fatal       error // the whole request was rejected for good (400-class)
	status      int
	items       []itemOutcome // nil when every item succeeded (fast path)
}

type bulkResponse struct {
	Errors bool                     `json:"errors"`
	Items  []map[string]itemOutcome `json:"items"`
}

// send posts b once and reads the answer: on the fast path (no item
// failed) it only checks that the answer is complete.
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
	res, err := e.cluster.Perform(req)
	if err != nil {
		return outcome{err: fmt.Errorf("elasticsearch: bulk request: %w", err), unreachable: true}
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
	return s.readItems(res.Body, b.n())
}

// readItems reads a 200 answer to a bulk request of n items.
func (s *sender) readItems(body io.Reader, n int) outcome {
	// Fast path: read the head only; "errors":false means every item is in.
	head, _ := io.ReadFull(body, s.rbuf)
	if noErrors(s.rbuf[:head]) {
		// Skip the items, checking only that the response is complete.
		last := lastNonSpace(s.rbuf[:head], 0)
		for {
			m, err := body.Read(s.rbuf)
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
	rest, err := io.ReadAll(body)
	if err != nil {
		return outcome{err: fmt.Errorf("elasticsearch: reading bulk response: %w", err)}
	}
	full := append(append([]byte(nil), s.rbuf[:head]...), rest...)
	var br bulkResponse
	if err := json.Unmarshal(full, &br); err != nil {
		return outcome{err: fmt.Errorf("elasticsearch: malformed bulk response: %w", err)}
	}
	if len(br.Items) != n {
		return outcome{err: fmt.Errorf("elasticsearch: bulk response has %d items for %d sent", len(br.Items), n)}
	}
	items := make([]itemOutcome, len(br.Items))
	for i, it := range br.Items {
		// One action per item, with an HTTP status: anything else (null, an
		// empty object, two actions) says nothing certain about the
		// document, so the answer is not taken item by item.
		if len(it) != 1 {
			return outcome{err: fmt.Errorf("elasticsearch: malformed bulk response: item %d has %d actions", i, len(it))}
		}
		for _, v := range it {
			if v.Status < 100 || v.Status > 599 {
				return outcome{err: fmt.Errorf("elasticsearch: malformed bulk response: item %d has status %d", i, v.Status)}
			}
			items[i] = v
		}
	}
	return outcome{items: items}
}

var (
	errorsKey   = []byte(`"errors"`)
	es8NoErrors = []byte(`{"errors":false,`) // how Elasticsearch 8 starts the answer
)

// noErrors reports whether head, the start of a bulk answer, says that
// every item succeeded: its top-level object has "errors": false, read as
// JSON from the start up to that key. Elasticsearch writes "errors" first
// (after "took" before 8.0), so the head holds it; the same words inside
// an item (in an error's reason, say) do not count.
func noErrors(head []byte) bool {
	if bytes.HasPrefix(head, es8NoErrors) {
		return true
	}
	if !bytes.Contains(head, errorsKey) {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(head))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return false
		}
		var v json.RawMessage
		if dec.Decode(&v) != nil {
			return false
		}
		if key == "errors" && string(v) == "false" {
			return true
		}
	}
	return false
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
