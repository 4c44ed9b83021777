package elasticsearch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/internal/estest"
	"github.com/glassbox-obs/glassbox/log"
)

// FuzzBulkResponse answers one bulk request of n documents with any body
// (status 200), and the requests after it as Elasticsearch does. Whatever
// the body, after Flush every document is accounted for exactly once, as
// an independent reading of the body says:
//   - a body whose top-level "errors" is false (read as JSON up to that
//     key) and that ends in '}' settles every document as delivered;
//   - in a complete answer (valid JSON, one item per document, each item
//     an object of one action with an HTTP status), an item with status 200 or 201 is
//     delivered, 409 a duplicate, 408, 429 or 5xx retried and then stored
//     by the server, any other status dead-lettered;
//   - any other body fails the request as a whole: every document is
//     retried and stored by the server.
//
// Produced = Delivered + Duplicates + DeadLettered, nothing dropped or in
// flight; the server stores exactly the retried documents, once each; the
// dead-letter file holds exactly the dead-lettered ones. The seed corpus
// is in testdata/fuzz/FuzzBulkResponse.
func FuzzBulkResponse(f *testing.F) {
	item := func(st int) string { return fmt.Sprintf(`{"create":{"_index":"logs","_id":"x","status":%d}}`, st) }
	f.Add(`{"errors":false,"took":1,"items":[`+item(201)+`,`+item(201)+`]}`, uint8(1))
	f.Add(`{"took":1,"errors":true,"items":[`+item(201)+`,`+item(409)+`,`+item(429)+`,`+
		`{"create":{"status":400,"error":{"type":"mapper_parsing_exception","reason":"x"}}}]}`, uint8(3))
	f.Add(`{"errors":false,"items":[{"create":{"_ind`, uint8(2))
	f.Fuzz(func(t *testing.T, body string, n uint8) {
		n = n%8 + 1 // documents in the request
		srv := estest.New(t)
		srv.Inject(estest.Fault{Body: []byte(body)})
		dl := filepath.Join(t.TempDir(), "dead-letter.ndjson")
		exp, err := elasticsearch.New(elasticsearch.WithGetenv(nil), elasticsearch.WithAddresses(srv.URL()),
			elasticsearch.WithService(log.Service{Name: "fuzz", Dataset: "fuzz", Namespace: "default"}),
			elasticsearch.WithFlushInterval(time.Hour), elasticsearch.WithBackoff(time.Millisecond, 2*time.Millisecond),
			elasticsearch.WithDeadLetterFile(dl), elasticsearch.WithErrorHandler(&errorSink{}))
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := exp.Shutdown(ctx); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
		}()
		sink := exp.LogSink()
		for i := range int(n) {
			writeDoc(t, sink, fmt.Sprintf(`{"@timestamp":%s,"message":"m%d"}`, ts(i), i))
		}
		flush(t, exp)

		want := readBulkAnswer(body, int(n))
		s := exp.Stats()
		if s.Produced != int64(n) || s.Delivered != int64(len(want.delivered)+len(want.retried)) ||
			s.Duplicates != int64(len(want.duplicates)) || s.DeadLettered != int64(len(want.dead)) ||
			s.Dropped.Total() != 0 || s.InFlight != 0 {
			t.Fatalf("stats %+v; want produced %d = delivered %d (answered %v, retried %v) + duplicates %v + dead-lettered %v",
				s, n, len(want.delivered)+len(want.retried), want.delivered, want.retried, want.duplicates, want.dead)
		}
		var stored []string
		for _, d := range srv.Docs("logs-*") {
			var doc struct{ Message string }
			if err := json.Unmarshal(d.Source, &doc); err != nil {
				t.Fatal(err)
			}
			stored = append(stored, doc.Message)
		}
		if got, w := sorted(stored), sorted(want.retried); got != w {
			t.Fatalf("server stored %s, want the retried %s", got, w)
		}
		var dead []string
		for _, d := range readDeadLetters(t, dl) {
			doc, _ := d["document"].(map[string]any)
			dead = append(dead, fmt.Sprint(doc["message"]))
		}
		if got, w := sorted(dead), sorted(want.dead); got != w {
			t.Fatalf("dead-letter file holds %s, want %s", got, w)
		}
	})
}

// bulkAnswer is what a bulk answer says of each document, by message.
type bulkAnswer struct{ delivered, duplicates, retried, dead []string }

// readBulkAnswer reads a bulk answer to n documents m0..m(n-1) as the
// Elasticsearch bulk API documents it.
func readBulkAnswer(body string, n int) bulkAnswer {
	var a bulkAnswer
	msgs := make([]string, n)
	for i := range msgs {
		msgs[i] = fmt.Sprintf("m%d", i)
	}
	if errorsFalse(body) && strings.HasSuffix(strings.TrimRight(body, " \t\r\n"), "}") {
		a.delivered = msgs
		return a
	}
	var r struct {
		Items []map[string]struct {
			Status int             `json:"status"`
			Error  json.RawMessage `json:"error"`
		} `json:"items"`
		Errors bool `json:"errors"`
	}
	if json.Unmarshal([]byte(body), &r) != nil || len(r.Items) != n {
		a.retried = msgs
		return a
	}
	for _, it := range r.Items {
		for _, v := range it {
			if v.Status < 100 || v.Status > 599 {
				it = nil // not an HTTP status: no answer for the document
			}
		}
		if len(it) != 1 {
			a.retried = msgs
			return a
		}
	}
	for i, it := range r.Items {
		for _, v := range it {
			switch st := v.Status; {
			case st == 200 || st == 201:
				a.delivered = append(a.delivered, msgs[i])
			case st == 409:
				a.duplicates = append(a.duplicates, msgs[i])
			case st == 408 || st == 429 || st >= 500:
				a.retried = append(a.retried, msgs[i])
			default:
				a.dead = append(a.dead, msgs[i])
			}
		}
	}
	return a
}

// errorsFalse reports whether the top-level object of body (read token by
// token, as far as it is valid JSON) has "errors": false in its first 16
// KiB, the head the exporter reads before deciding how to read the rest.
func errorsFalse(body string) bool {
	dec := json.NewDecoder(strings.NewReader(body[:min(len(body), 16<<10)]))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return false
		}
		if key == "errors" && bytes.Equal(v, []byte("false")) {
			return true
		}
	}
	return false
}

func sorted(s []string) string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return strings.Join(s, ",")
}
