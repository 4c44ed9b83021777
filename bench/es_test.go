package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	es "github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esutil"
	"github.com/klauspost/compress/gzip"

	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/log"
)

// bulkEndpoint is a minimal local _bulk endpoint shared by every variant:
// it reads (and gunzips) the body, answers each item with a full
// Elasticsearch item result (echoing its _id), and counts acknowledged
// documents and bytes on the wire. It allocates little so that the
// allocation numbers are the client's.
type bulkEndpoint struct {
	srv   *http.Server
	ln    net.Listener
	acked atomic.Int64
	wire  atomic.Int64
	pool  chan *epBufs // a free list: a sync.Pool would be emptied by every GC
}

type epBufs struct {
	body, out []byte
	zr        *gzip.Reader
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func newBulkEndpoint(b *testing.B) *bulkEndpoint {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ep := &bulkEndpoint{ln: ln}
	ep.pool = make(chan *epBufs, 8)
	for i := 0; i < cap(ep.pool); i++ {
		ep.pool <- &epBufs{body: make([]byte, 0, 3<<20), out: make([]byte, 0, 256<<10)}
	}
	ep.srv = &http.Server{Handler: ep}
	go ep.srv.Serve(ln)
	b.Cleanup(func() { ep.srv.Close() })
	return ep
}

func (ep *bulkEndpoint) URL() string { return "http://" + ep.ln.Addr().String() }

func readAllInto(dst []byte, r io.Reader) ([]byte, error) {
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

func (ep *bulkEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	if r.URL.Path == "/" {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"version":{"number":"8.19.7"},"tagline":"You Know, for Search"}`)
		return
	}
	bufs := <-ep.pool
	defer func() { ep.pool <- bufs }()
	// Decompress while reading, as Elasticsearch does.
	cr := &countingReader{r: r.Body}
	var src io.Reader = cr
	if r.Header.Get("Content-Encoding") == "gzip" {
		var err error
		if bufs.zr == nil {
			bufs.zr, err = gzip.NewReader(cr)
		} else {
			err = bufs.zr.Reset(cr)
		}
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		src = bufs.zr
	}
	body, err := readAllInto(bufs.body[:0], src)
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	bufs.body = body[:0]
	ep.wire.Add(cr.n)
	out := append(bufs.out[:0], `{"errors":false,"took":1,"items":[`...)
	n := 0
	for len(body) > 0 {
		nl := bytes.IndexByte(body, '\n')
		if nl < 0 {
			break
		}
		action := body[:nl]
		body = body[nl+1:]
		if nl = bytes.IndexByte(body, '\n'); nl >= 0 { // the document line
			body = body[nl+1:]
		}
		id := []byte(nil)
		if i := bytes.Index(action, []byte(`"_id":"`)); i >= 0 {
			id = action[i+7:]
			id = id[:bytes.IndexByte(id, '"')]
		}
		if n > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"create":{"_index":".ds-logs-bench-default-2026.01.01-000001","_id":"`...)
		out = append(out, id...)
		out = append(out, `","_version":1,"result":"created","_shards":{"total":2,"successful":1,"failed":0},"_seq_no":`...)
		out = strconv.AppendInt(out, int64(n), 10)
		out = append(out, `,"_primary_term":1,"status":201}}`...)
		n++
	}
	out = append(out, "]}"...)
	bufs.out = out
	ep.acked.Add(int64(n))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.Write(out)
}

// benchDocs are 1 KB ECS log documents as the glassbox log handler writes
// them, each with its own IDs, durations and text, so that compression sees
// realistic variety rather than one repeated document.
var benchDocs = func() [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("order cart payment user session checkout item price stock warehouse shipping address " +
		"invoice refund coupon gift retry timeout upstream cache hit miss query row index shard replica")
	hexs := func(n int) string {
		const h = "0123456789abcdef"
		b := make([]byte, n)
		for i := range b {
			b[i] = h[rng.IntN(16)]
		}
		return string(b)
	}
	docs := make([][]byte, 1024)
	for i := range docs {
		tid := hexs(32)
		d := fmt.Sprintf(`{"@timestamp":"2026-01-02T03:04:%02d.%09dZ","log.level":"INFO","message":"GET /api/v1/orders/%d %d","ecs.version":"8.11.0",`+
			`"service.name":"checkout","service.version":"1.4.2","service.environment":"production","host.name":"checkout-7d9f8c6b5-x2k4q",`+
			`"event.dataset":"checkout","data_stream.type":"logs","data_stream.dataset":"checkout","data_stream.namespace":"default",`+
			`"correlation.id":"%s","trace.id":"%s","span.id":"%s",`+
			`"http.request.method":"GET","url.path":"/api/v1/orders/%d","http.response.status_code":%d,"event.duration":%d,`+
			`"client.ip":"10.%d.%d.%d","user_agent.original":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",`+
			`"order.id":"ord_%s","customer.tier":"gold","cart.items":%d,"payment.provider":"stripe","note":"`,
			rng.IntN(60), rng.IntN(1e9), rng.IntN(1e6), []int{200, 200, 200, 404, 500}[rng.IntN(5)], tid, tid, hexs(16),
			rng.IntN(1e6), []int{200, 200, 200, 404, 500}[rng.IntN(5)], rng.IntN(1e8), rng.IntN(256), rng.IntN(256), rng.IntN(256),
			hexs(32), rng.IntN(20))
		var note strings.Builder
		for note.Len() < 1024-len(d)-3 {
			note.WriteString(words[rng.IntN(len(words))])
			note.WriteByte(' ')
		}
		docs[i] = []byte(d + note.String()[:1024-len(d)-3] + "\"}\n")
	}
	return docs
}()

// BenchmarkESExport: one op is one 1 KB document through the whole path
// to the same local _bulk endpoint; the timer stops once every document is
// acknowledged. Reports docs/s, wire bytes per document and allocations.
func BenchmarkESExport(b *testing.B) {
	for _, d := range benchDocs {
		if len(d) != 1024 {
			b.Fatalf("a benchmark document is %d bytes, want 1024", len(d))
		}
	}
	b.Run("glassbox", func(b *testing.B) { benchGlassbox(b, true) })
	b.Run("glassbox_nogzip", func(b *testing.B) { benchGlassbox(b, false) })
	// Write-ahead: every document also goes to a spool journal (one write
	// system call, page cache, no fsync) before Write returns.
	b.Run("glassbox_spool_always", func(b *testing.B) {
		benchGlassbox(b, true, elasticsearch.WithSpoolDir(b.TempDir()), elasticsearch.WithSpoolMode(elasticsearch.SpoolAlways))
	})
	b.Run("esutil", benchESUtil)

}

func report(b *testing.B, ep *bulkEndpoint, elapsed time.Duration) {
	if got := ep.acked.Load(); got != int64(b.N) {
		b.Fatalf("acknowledged %d documents, want %d", got, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "docs/s")
	b.ReportMetric(float64(ep.wire.Load())/float64(b.N), "wireB/doc")
}

func benchGlassbox(b *testing.B, gz bool, extra ...elasticsearch.Option) {
	ep := newBulkEndpoint(b)
	opts := []elasticsearch.Option{
		elasticsearch.WithGetenv(nil), // the benchmark's options only
		elasticsearch.WithAddresses(ep.URL()),
		elasticsearch.WithService(log.Service{Name: "bench", Dataset: "bench", Namespace: "default", HostName: "h"}),
		// Back-pressure like esutil (which blocks in Add): the benchmark
		// must get every document acknowledged, so none may be dropped.
		elasticsearch.Block(),
	}
	if !gz {
		opts = append(opts, elasticsearch.WithoutGzip())
	}
	opts = append(opts, extra...)
	exp, err := elasticsearch.New(opts...)
	if err != nil {
		b.Fatal(err)
	}
	defer exp.Shutdown(context.Background())
	sink := exp.LogSink()
	ctx := context.Background()
	entry := &log.Entry{Time: time.Now()}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		entry.Doc = benchDocs[i&1023]
		_ = sink.Write(ctx, entry)
	}
	if err := exp.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	elapsed := time.Since(start)
	if s := exp.Stats(); s.Delivered != int64(b.N) || (s.Journaled != 0 && s.Journaled != int64(b.N)) {
		b.Fatalf("delivered %d journaled %d, want %d (%+v)", s.Delivered, s.Journaled, b.N, s)
	}
	report(b, ep, elapsed)
}

func benchESUtil(b *testing.B) {
	ep := newBulkEndpoint(b)
	client, err := es.NewClient(es.Config{Addresses: []string{ep.URL()}, DisableRetry: true})
	if err != nil {
		b.Fatal(err)
	}
	var failed atomic.Int64
	bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{
		Client:     client,
		Index:      "logs-bench-default",
		NumWorkers: 2,
		FlushBytes: 1 << 20,
		OnError:    func(context.Context, error) { failed.Add(1) },
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		err := bi.Add(ctx, esutil.BulkIndexerItem{
			Action:     "create",
			DocumentID: strconv.Itoa(i),
			Body:       bytes.NewReader(benchDocs[i&1023][:1023]), // esutil adds the newline
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := bi.Close(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	elapsed := time.Since(start)
	if st := bi.Stats(); st.NumFailed != 0 || failed.Load() != 0 || st.NumFlushed != uint64(b.N) {
		b.Fatalf("esutil: flushed %d failed %d, want %d and 0", st.NumFlushed, st.NumFailed, b.N)
	}
	report(b, ep, elapsed)
}
