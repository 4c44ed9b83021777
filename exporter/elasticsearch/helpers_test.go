package elasticsearch_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"
	"go.uber.org/goleak"

	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/internal/estest"
	"github.com/glassbox-obs/glassbox/internal/testutil"
	"github.com/glassbox-obs/glassbox/log"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(childMain())
	}
	goleak.VerifyTestMain(m)
}

// target is the Elasticsearch a behaviour test runs against: the strict
// test server, or the real cluster named by ELASTICSEARCH_URL (with
// ELASTICSEARCH_API_KEY or ELASTICSEARCH_USERNAME/_PASSWORD).
type target struct {
	url      string
	srv      *estest.Server // nil for a real cluster
	opts     []elasticsearch.Option
	client   *elasticsearch.Cluster
	service  log.Service
	fixedOpt []elasticsearch.Option
}

func newTarget(t *testing.T) *target {
	t.Helper()
	tg := &target{}
	if u := os.Getenv("ELASTICSEARCH_URL"); u != "" {
		tg.url = u
		if k := os.Getenv("ELASTICSEARCH_API_KEY"); k != "" {
			tg.opts = append(tg.opts, elasticsearch.WithAPIKey(k))
		} else if usr := os.Getenv("ELASTICSEARCH_USERNAME"); usr != "" {
			tg.opts = append(tg.opts, elasticsearch.WithBasicAuth(usr, os.Getenv("ELASTICSEARCH_PASSWORD")))
		}
		if f := os.Getenv("ELASTICSEARCH_CA_CERT"); f != "" {
			pem, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			tg.opts = append(tg.opts, elasticsearch.WithCACert(pem))
		}
	} else {
		tg.srv = estest.New(t)
		tg.url = tg.srv.URL()
	}
	tg.opts = append(tg.opts, elasticsearch.WithAddresses(tg.url))
	// A fresh namespace per test gives fresh data streams on a real cluster.
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	tg.service = log.Service{Name: "glassbox-test", Dataset: "glassbox_test", Namespace: "t" + hex.EncodeToString(rnd[:]), HostName: "test-host", Version: "1.2.3", Environment: "test"}
	cl, err := elasticsearch.Connect(append(tg.opts, elasticsearch.WithGetenv(nil))...)
	if err != nil {
		t.Fatal(err)
	}
	tg.client = cl
	t.Cleanup(func() { _ = cl.Close(context.Background()) })
	return tg
}

// exporter builds an exporter against the target with fast test timings.
func (tg *target) exporter(t *testing.T, opts ...elasticsearch.Option) *elasticsearch.Exporter {
	t.Helper()
	all := append([]elasticsearch.Option{
		elasticsearch.WithGetenv(nil), // the test's options only
		elasticsearch.WithService(tg.service),
		elasticsearch.WithFlushInterval(20 * time.Millisecond),
		elasticsearch.WithBackoff(5*time.Millisecond, 50*time.Millisecond),
		elasticsearch.WithDeadLetterFile(t.TempDir() + "/dead-letter.ndjson"),
		elasticsearch.WithErrorHandler(&errorSink{}),
	}, tg.opts...)
	exp, err := elasticsearch.New(append(all, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = exp.Shutdown(ctx)
	})
	return exp
}

type errorSink struct {
	mu   sync.Mutex
	errs []error
}

func (e *errorSink) Handle(err error) {
	e.mu.Lock()
	e.errs = append(e.errs, err)
	e.mu.Unlock()
}

// search runs a query against index after a refresh and returns the hits'
// sources and total.
func (tg *target) search(t *testing.T, index string, query string) (int, []map[string]any) {
	t.Helper()
	ctx := context.Background()
	res, err := esapi.IndicesRefreshRequest{Index: []string{index}}.Do(ctx, tg.client)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	res.Body.Close()
	body := `{"size":1000,"track_total_hits":true,"query":` + query + `}`
	if query == "" {
		body = `{"size":1000,"track_total_hits":true,"query":{"match_all":{}}}`
	}
	res, err = esapi.SearchRequest{Index: []string{index}, Body: strings.NewReader(body)}.Do(ctx, tg.client)
	if err != nil {
		t.Fatalf("search: %v", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("search %s: HTTP %d: %s", index, res.StatusCode, b)
	}
	var out struct {
		Hits struct {
			Total struct {
				Value int `json:"value"`
			} `json:"total"`
			Hits []struct {
				ID     string         `json:"_id"`
				Index  string         `json:"_index"`
				Source map[string]any `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("search response: %v: %s", err, b)
	}
	var docs []map[string]any
	for _, h := range out.Hits.Hits {
		h.Source["_id"] = h.ID
		h.Source["_index"] = h.Index
		docs = append(docs, h.Source)
	}
	return out.Hits.Total.Value, docs
}

// waitFor polls cond until it holds or the deadline passes.
var waitFor = testutil.WaitFor

func flush(t *testing.T, exp *elasticsearch.Exporter) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := exp.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v (stats %+v)", err, exp.Stats())
	}
}

// writeDoc writes one raw document through the log sink, as the handler
// would.
func writeDoc(t *testing.T, sink log.Sink, doc string) {
	t.Helper()
	e := &log.Entry{Time: time.Now(), Doc: []byte(doc + "\n")}
	if err := sink.Write(context.Background(), e); err != nil {
		t.Fatal(err)
	}
}

// readDeadLetters parses the dead-letter file.
func readDeadLetters(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("dead-letter line is not JSON: %v: %s", err, line)
		}
		out = append(out, m)
	}
	return out
}

func ts(i int) string {
	return fmt.Sprintf(`"%s"`, time.Date(2026, 1, 2, 3, 4, 5, i, time.UTC).Format("2006-01-02T15:04:05.000000000Z"))
}

// put sends a JSON body to the target and returns the status.
func (tg *target) put(t *testing.T, path, body string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := tg.client.Perform(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		t.Logf("PUT %s: %s", path, b)
	}
	return res.StatusCode
}

func (tg *target) delete(t *testing.T, path string) {
	req, _ := http.NewRequest(http.MethodDelete, path, nil)
	if res, err := tg.client.Perform(req); err == nil {
		res.Body.Close()
	}
}
