package elasticsearch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/internal/estest"
	"github.com/glassbox-obs/glassbox/internal/metrictest"
	"github.com/glassbox-obs/glassbox/log"
)

// Fault tests always run against the test server: a real cluster cannot be
// made to answer 429 or refuse connections on demand.

func mustRequest(t *testing.T, method, path string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func faultExporter(t *testing.T, srv *estest.Server, opts ...elasticsearch.Option) *elasticsearch.Exporter {
	t.Helper()
	tg := &target{srv: srv, url: srv.URL(), opts: []elasticsearch.Option{elasticsearch.WithAddresses(srv.URL())},
		service: log.Service{Name: "svc", Dataset: "svc", Namespace: "default", HostName: "h"}}
	return tg.exporter(t, opts...)
}

// seqDocs writes n documents carrying "seq":i through the sink.
func seqDocs(t *testing.T, sink log.Sink, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		writeDoc(t, sink, fmt.Sprintf(`{"@timestamp":%s,"message":"m","seq":%d,"pad":"%s"}`, ts(i), i, strings.Repeat("x", 200)))
	}
}

// storedSeqs counts stored documents per seq value.
func storedSeqs(t *testing.T, srv *estest.Server, expr string) map[int]int {
	t.Helper()
	out := map[int]int{}
	for _, d := range srv.Docs(expr) {
		var v struct {
			Seq int `json:"seq"`
		}
		if err := json.Unmarshal(d.Source, &v); err != nil {
			t.Fatal(err)
		}
		out[v.Seq]++
	}
	return out
}

func assertExactlyOnce(t *testing.T, seqs map[int]int, want []int) {
	t.Helper()
	for _, s := range want {
		if seqs[s] != 1 {
			t.Errorf("seq %d stored %d times, want exactly once", s, seqs[s])
		}
	}
	if len(seqs) != len(want) {
		t.Errorf("got %d distinct records stored, want %d", len(seqs), len(want))
	}
}

func rangeInts(from, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = from + i
	}
	return out
}

func TestItemStatusMatrix(t *testing.T) {
	cases := []struct {
		name       string
		status     int
		delivered  int64
		dead       int64
		duplicates int64
		retried    bool
	}{
		{"201 created", 0, 1, 0, 0, false},
		{"409 already there", 409, 0, 0, 1, false},
		{"429 retried", 429, 1, 0, 0, true},
		{"500 retried", 500, 1, 0, 0, true},
		{"503 retried", 503, 1, 0, 0, true},
		{"400 dead-lettered", 400, 0, 1, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := estest.New(t)
			dl := t.TempDir() + "/dl.ndjson"
			exp := faultExporter(t, srv, elasticsearch.WithDeadLetterFile(dl))
			sink := exp.LogSink()
			doc := `{"@timestamp":` + ts(1) + `,"message":"m","count":1}`
			switch {
			case c.status == 409:
				writeDoc(t, sink, doc)
				flush(t, exp)
				base := exp.Stats()
				// Re-send the same item by hand: the server must answer 409.
				if base.Delivered != 1 {
					t.Fatalf("got %d delivered, want 1", base.Delivered)
				}
				assert409(t, srv)
				return
			case c.status == 400:
				writeDoc(t, sink, `{"@timestamp":`+ts(1)+`,"message":"m","count":1}`)
				flush(t, exp)
				doc = `{"@timestamp":` + ts(2) + `,"message":"m","count":"many"}` // long field, no ignore_malformed
			case c.status != 0:
				srv.FailItems(1, c.status)
			}
			before := exp.Stats()
			writeDoc(t, sink, doc)
			flush(t, exp)
			s := exp.Stats()
			if got := s.Delivered - before.Delivered; got != c.delivered {
				t.Errorf("got %d delivered, want %d", got, c.delivered)
			}
			if got := s.DeadLettered - before.DeadLettered; got != c.dead {
				t.Errorf("got %d dead-lettered, want %d", got, c.dead)
			}
			if got := s.Retried > 0; got != c.retried {
				t.Errorf("got retried %v (%d), want %v", got, s.Retried, c.retried)
			}
			if c.dead > 0 {
				letters := readDeadLetters(t, dl)
				if len(letters) != 1 || letters[0]["status"] != float64(400) {
					t.Fatalf("got dead letters %v, want one with status 400", letters)
				}
				reason := letters[0]["error"].(map[string]any)["reason"].(string)
				if !strings.Contains(reason, "failed to parse field [count] of type [long]") {
					t.Errorf("got reason %q, want the mapping error", reason)
				}
			}
		})
	}
}

// assert409 re-sends the last stored document with its _id and checks the
// exporter counts it as a duplicate.
func assert409(t *testing.T, srv *estest.Server) {
	t.Helper()
	docs := srv.Docs("logs-*")
	if len(docs) != 1 {
		t.Fatalf("got %d stored documents, want 1", len(docs))
	}
	// Feed a spooled copy of the same item to a fresh exporter: replay
	// after a crash is exactly this case.
	dir := t.TempDir()
	spoolWith(t, dir, docs[0].Index, docs[0].ID, string(docs[0].Source))
	exp := faultExporter(t, srv, elasticsearch.WithSpoolDir(dir))
	waitFor(t, 10*time.Second, "the replayed duplicate", func() bool { return exp.Stats().Duplicates == 1 })
	if s := exp.Stats(); s.Delivered != 0 || s.DeadLettered != 0 {
		t.Errorf("got delivered %d dead-lettered %d, want 0 and 0", s.Delivered, s.DeadLettered)
	}
	if n := len(srv.Docs("logs-*")); n != 1 {
		t.Errorf("got %d stored documents, want 1", n)
	}
}

func Test429Storm(t *testing.T) {
	srv := estest.New(t)
	exp := faultExporter(t, srv, elasticsearch.WithFlushBytes(8<<10))
	// Whole requests rejected, then many items rejected.
	srv.Inject(estest.Fault{Status: 429, Count: 5})
	srv.FailItems(300, 429)
	seqDocs(t, exp.LogSink(), 0, 500)
	flush(t, exp)
	s := exp.Stats()
	if s.Delivered != 500 || s.Retried < 300 || s.Dropped.Total() != 0 {
		t.Fatalf("got delivered %d retried %d dropped %d, want 500, >= 300, 0", s.Delivered, s.Retried, s.Dropped.Total())
	}
	assertExactlyOnce(t, storedSeqs(t, srv, "logs-*"), rangeInts(0, 500))
}

func Test413SplitsTheBatch(t *testing.T) {
	srv := estest.New(t, estest.WithMaxContentLength(16<<10))
	dl := t.TempDir() + "/dl.ndjson"
	exp := faultExporter(t, srv, elasticsearch.WithFlushBytes(256<<10), elasticsearch.WithDeadLetterFile(dl), elasticsearch.WithoutGzip())
	sink := exp.LogSink()
	seqDocs(t, sink, 0, 300) // ~90 KB in one batch
	writeDoc(t, sink, `{"@timestamp":`+ts(1)+`,"message":"huge","seq":-1,"pad":"`+strings.Repeat("y", 20<<10)+`"}`)
	flush(t, exp)
	s := exp.Stats()
	if s.Delivered != 300 || s.DeadLettered != 1 {
		t.Fatalf("got delivered %d dead-lettered %d, want 300 and 1", s.Delivered, s.DeadLettered)
	}
	assertExactlyOnce(t, storedSeqs(t, srv, "logs-*"), rangeInts(0, 300))
	letters := readDeadLetters(t, dl)
	if len(letters) != 1 || letters[0]["status"] != float64(413) {
		t.Fatalf("got dead letters %v, want one with status 413", letters)
	}
}

func TestMalformedResponseIsRetried(t *testing.T) {
	srv := estest.New(t)
	exp := faultExporter(t, srv)
	srv.Inject(estest.Fault{Malformed: true})
	srv.Inject(estest.Fault{Status: 502})
	seqDocs(t, exp.LogSink(), 0, 20)
	flush(t, exp)
	if s := exp.Stats(); s.Delivered+s.Duplicates != 20 {
		t.Fatalf("got delivered %d + duplicates %d, want 20", s.Delivered, s.Duplicates)
	}
	assertExactlyOnce(t, storedSeqs(t, srv, "logs-*"), rangeInts(0, 20))
}

// outage is how long Elasticsearch refuses connections in the outage tests:
// 30 s, the scenario of the issue (the two tests run in parallel, so the
// suite pays it once). GLASSBOX_TEST_OUTAGE=2s shortens it for quick local
// runs; the logic does not depend on the length.
func outage(t *testing.T) time.Duration {
	if v := os.Getenv("GLASSBOX_TEST_OUTAGE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	return 30 * time.Second
}

// writeDuring writes numbered records until d has passed; it returns how
// many.
func writeDuring(t *testing.T, sink log.Sink, d time.Duration) int {
	n := 0
	for end := time.Now().Add(d); time.Now().Before(end); {
		seqDocs(t, sink, n, 50)
		n += 50
		time.Sleep(10 * time.Millisecond) // pacing a producer, not synchronising
	}
	return n
}

func TestOutageWithSpoolLosesNothing(t *testing.T) {
	t.Parallel()
	srv := estest.New(t)
	exp := faultExporter(t, srv, elasticsearch.WithSpoolDir(t.TempDir()), elasticsearch.WithFlushBytes(16<<10),
		elasticsearch.WithQueueBytes(256<<10), elasticsearch.WithRequestTimeout(time.Second))
	sink := exp.LogSink()
	seqDocs(t, sink, 1_000_000_000, 10) // a range writeDuring never reaches
	flush(t, exp)
	if err := srv.SetRefused(true); err != nil {
		t.Fatal(err)
	}
	n := writeDuring(t, sink, outage(t))
	waitFor(t, 10*time.Second, "records to reach the spool", func() bool { return exp.Stats().Spooled > 0 })
	if err := srv.SetRefused(false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "every record to land", func() bool {
		s := exp.Stats()
		return s.Delivered+s.Duplicates == s.Produced
	})
	s := exp.Stats()
	if s.Dropped.Total() != 0 || s.DeadLettered != 0 {
		t.Fatalf("got dropped %+v dead-lettered %d, want none", s.Dropped, s.DeadLettered)
	}
	want := append(rangeInts(0, n), rangeInts(1_000_000_000, 10)...)
	assertExactlyOnce(t, storedSeqs(t, srv, "logs-*"), want)
}

func TestOutageWithoutSpoolLossEqualsDrops(t *testing.T) {
	t.Parallel()
	srv := estest.New(t)
	exp := faultExporter(t, srv, elasticsearch.WithFlushBytes(16<<10), elasticsearch.WithQueueBytes(128<<10),
		elasticsearch.WithRequestTimeout(time.Second), elasticsearch.WithMaxElapsedTime(outage(t)/2))
	sink := exp.LogSink()
	if err := srv.SetRefused(true); err != nil {
		t.Fatal(err)
	}
	n := writeDuring(t, sink, outage(t))
	if err := srv.SetRefused(false); err != nil {
		t.Fatal(err)
	}
	flush(t, exp)
	s := exp.Stats()
	stored := storedSeqs(t, srv, "logs-*")
	if s.Dropped.Total() == 0 {
		t.Fatalf("got no drops after an outage longer than the queue holds (stats %+v)", s)
	}
	if got, want := int64(len(stored)), int64(n)-s.Dropped.Total(); got != want || s.Delivered+s.Duplicates != got {
		t.Fatalf("got %d stored (delivered %d + dup %d), want produced %d - dropped %d = %d", got, s.Delivered, s.Duplicates, n, s.Dropped.Total(), want)
	}
	for seq, c := range stored {
		if c != 1 {
			t.Errorf("seq %d stored %d times", seq, c)
		}
	}
}

func TestShutdownWithElasticsearchDownReturnsByDeadline(t *testing.T) {
	for _, mode := range []string{"refused", "slow"} {
		t.Run(mode, func(t *testing.T) {
			srv := estest.New(t)
			exp := faultExporter(t, srv, elasticsearch.WithFlushBytes(4<<10))
			if mode == "refused" {
				if err := srv.SetRefused(true); err != nil {
					t.Fatal(err)
				}
			} else {
				srv.SetDelay(time.Hour)
			}
			seqDocs(t, exp.LogSink(), 0, 200)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := exp.Shutdown(ctx)
			took := time.Since(start)
			if err == nil {
				t.Errorf("got nil error, want the deadline's error")
			}
			// The deadline plus scheduling slack, nowhere near the hour.
			if took > 5*time.Second {
				t.Errorf("Shutdown took %v with a 300ms deadline", took)
			}
			s := exp.Stats()
			if s.Produced != 200 || s.Delivered+s.Dropped.Total() != 200 {
				t.Errorf("got produced %d delivered %d dropped %+v, want every record accounted for", s.Produced, s.Delivered, s.Dropped)
			}
			srv.SetDelay(0)
		})
	}
}

func TestQueueFullDropsNewestWithoutBlocking(t *testing.T) {
	srv := estest.New(t)
	srv.SetDelay(200 * time.Millisecond)
	exp := faultExporter(t, srv, elasticsearch.WithQueueBytes(32<<10), elasticsearch.WithFlushBytes(4<<10))
	sink := exp.LogSink()
	seqDocs(t, sink, 0, 1000) // ~270 KB into a 32 KiB queue
	s := exp.Stats()
	if s.Dropped.QueueFull == 0 {
		t.Fatalf("got no queue_full drops, want some")
	}
	if s.QueuedBytes > 32<<10 {
		t.Errorf("got %d queued bytes, want at most %d", s.QueuedBytes, 32<<10)
	}
	srv.SetDelay(0)
	flush(t, exp)
	s = exp.Stats()
	if s.Delivered+s.Dropped.QueueFull != 1000 {
		t.Errorf("got delivered %d + dropped %d, want 1000", s.Delivered, s.Dropped.QueueFull)
	}
}

func TestBlockWaitsInsteadOfDropping(t *testing.T) {
	srv := estest.New(t)
	srv.Inject(estest.Fault{Status: 503, Count: 3})
	exp := faultExporter(t, srv, elasticsearch.WithQueueBytes(32<<10), elasticsearch.WithFlushBytes(4<<10), elasticsearch.Block())
	seqDocs(t, exp.LogSink(), 0, 1000)
	flush(t, exp)
	if s := exp.Stats(); s.Delivered != 1000 || s.Dropped.Total() != 0 {
		t.Fatalf("got delivered %d dropped %d, want 1000 and 0", s.Delivered, s.Dropped.Total())
	}
}

func TestProductCheckRejectsOtherServers(t *testing.T) {
	srv := estest.New(t)
	srv.SetProductHeader(false)
	exp := faultExporter(t, srv, elasticsearch.WithSpoolDir(t.TempDir()))
	seqDocs(t, exp.LogSink(), 0, 5)
	waitFor(t, 10*time.Second, "the product check to fail", func() bool { return exp.Stats().LastError != "" })
	if s := exp.Stats(); !strings.Contains(s.LastError, "not Elasticsearch") || s.Delivered != 0 {
		t.Fatalf("got last error %q delivered %d, want the product check error and nothing delivered", s.LastError, s.Delivered)
	}
	srv.SetProductHeader(true)
	waitFor(t, 20*time.Second, "delivery once the server is Elasticsearch", func() bool { return exp.Stats().Delivered+exp.Stats().Duplicates == 5 })
}

func TestAuthentication(t *testing.T) {
	cases := []struct {
		name string
		srv  estest.Option
		opt  elasticsearch.Option
		ok   bool
	}{
		{"api key", estest.WithAPIKey("secret-key"), elasticsearch.WithAPIKey("secret-key"), true},
		{"wrong api key", estest.WithAPIKey("secret-key"), elasticsearch.WithAPIKey("nope"), false},
		{"basic", estest.WithBasicAuth("elastic", "pw"), elasticsearch.WithBasicAuth("elastic", "pw"), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := estest.New(t, c.srv)
			exp := faultExporter(t, srv, c.opt)
			seqDocs(t, exp.LogSink(), 0, 3)
			if c.ok {
				flush(t, exp)
				if d := exp.Stats().Delivered; d != 3 {
					t.Fatalf("got %d delivered, want 3", d)
				}
				return
			}
			waitFor(t, 10*time.Second, "the 401", func() bool { return strings.Contains(exp.Stats().LastError, "401") })
			if d := exp.Stats().Delivered; d != 0 {
				t.Fatalf("got %d delivered with a wrong key, want 0", d)
			}
		})
	}
}

func TestTLSWithCACert(t *testing.T) {
	srv := estest.New(t, estest.WithTLS())
	t.Run("trusted", func(t *testing.T) {
		exp := faultExporter(t, srv, elasticsearch.WithCACert(srv.CACert()))
		seqDocs(t, exp.LogSink(), 0, 3)
		flush(t, exp)
		if d := exp.Stats().Delivered; d != 3 {
			t.Fatalf("got %d delivered over TLS, want 3", d)
		}
	})
	t.Run("untrusted", func(t *testing.T) {
		exp := faultExporter(t, srv)
		seqDocs(t, exp.LogSink(), 100, 1)
		waitFor(t, 10*time.Second, "the certificate error", func() bool { return strings.Contains(exp.Stats().LastError, "certificate") })
		if d := exp.Stats().Delivered; d != 0 {
			t.Fatalf("got %d delivered to an untrusted server, want 0", d)
		}
	})
}

func TestSeveralNodesSurviveOneDown(t *testing.T) {
	up, down := estest.New(t), estest.New(t)
	if err := down.SetRefused(true); err != nil {
		t.Fatal(err)
	}
	exp := faultExporter(t, up, elasticsearch.WithAddresses(down.URL(), up.URL()), elasticsearch.WithFlushBytes(2<<10))
	seqDocs(t, exp.LogSink(), 0, 100)
	flush(t, exp)
	if s := exp.Stats(); s.Delivered != 100 || s.Dropped.Total() != 0 {
		t.Fatalf("got delivered %d dropped %d with one of two nodes down, want 100 and 0", s.Delivered, s.Dropped.Total())
	}
	assertExactlyOnce(t, storedSeqs(t, up, "logs-*"), rangeInts(0, 100))
}

func TestTimeoutIsRetried(t *testing.T) {
	srv := estest.New(t)
	srv.Inject(estest.Fault{Delay: time.Minute})
	exp := faultExporter(t, srv, elasticsearch.WithRequestTimeout(200*time.Millisecond))
	seqDocs(t, exp.LogSink(), 0, 10)
	flush(t, exp)
	s := exp.Stats()
	if s.Delivered != 10 || s.Retried == 0 || !strings.Contains(s.LastError, "deadline") {
		t.Fatalf("got delivered %d retried %d last error %q, want 10, > 0 and a timeout", s.Delivered, s.Retried, s.LastError)
	}
}

func TestMetricsEqualStats(t *testing.T) {
	srv := estest.New(t)
	mr := metrictest.New(t)
	exp := faultExporter(t, srv, elasticsearch.WithMeterProvider(mr.Provider))
	srv.Inject(estest.Fault{Status: 503}) // one retried request
	seqDocs(t, exp.LogSink(), 0, 7)
	flush(t, exp)
	s := exp.Stats()
	if s.Produced != 7 || s.Delivered != 7 || s.Retried != 7 || s.Requests != 2 || s.WireBytes == 0 {
		t.Fatalf("got stats %+v, want 7 produced, retried once and delivered", s)
	}
	metrictest.EqualFigures(t, metrictest.ExporterFigures(mr.Collect(t), "elasticsearch"), map[string]int64{
		"produced": s.Produced, "delivered": s.Delivered, "duplicates": s.Duplicates, "retried": s.Retried,
		"repaired": s.Repaired, "dead_lettered": s.DeadLettered, "spooled": s.Spooled, "replayed": s.Replayed,
		"journaled": s.Journaled, "recovered": s.Recovered, "spool_corrupt": s.SpoolCorrupt,
		"requests": s.Requests, "wire": s.WireBytes,
		"dropped.queue_full": s.Dropped.QueueFull, "dropped.spool_full": s.Dropped.SpoolFull,
		"dropped.retry_exhausted": s.Dropped.RetryExhausted, "dropped.shutdown": s.Dropped.Shutdown,
		"in_flight": s.InFlight, "in_spool": s.InSpool, "queue.size": s.QueuedBytes, "spool.size": s.SpooledBytes,
	})
}

func TestBrokenDocumentCostsOnlyItself(t *testing.T) {
	srv := estest.New(t)
	dl := t.TempDir() + "/dl.ndjson"
	exp := faultExporter(t, srv, elasticsearch.WithDeadLetterFile(dl))
	sink := exp.LogSink()
	seqDocs(t, sink, 0, 5)
	writeDoc(t, sink, "{\"@timestamp\":"+ts(1)+",\"message\":\"raw\nline break\",\"seq\":-1}")
	writeDoc(t, sink, `{"@timestamp":`+ts(1)+`,"message":"not closed"`)
	seqDocs(t, sink, 5, 5)
	flush(t, exp)
	s := exp.Stats()
	// The raw line break becomes a space (the document is kept); the
	// unterminated one is rejected alone; the batch around them lands.
	if s.Delivered != 11 || s.DeadLettered != 1 {
		t.Fatalf("got delivered %d dead-lettered %d, want 11 and 1", s.Delivered, s.DeadLettered)
	}
	assertExactlyOnce(t, storedSeqs(t, srv, "logs-*"), append(rangeInts(0, 10), -1))
}
