package elasticsearch_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/internal/estest"
	"github.com/glassbox-obs/glassbox/internal/spool"
)

// spoolRecord writes one spool record of n items (seq from..from+n-1), as
// a previous run leaves a failed batch.
func spoolRecord(t *testing.T, dir, index string, from, n int) {
	t.Helper()
	sp, err := spool.Open(dir, spool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, `{"create":{"_index":%s,"_id":"replay-%d"}}`+"\n", strconv.Quote(index), i)
		fmt.Fprintf(&b, `{"@timestamp":%s,"message":"m","seq":%d}`+"\n", ts(i), i)
	}
	if err := sp.Append(n, []byte(b.String())); err != nil {
		t.Fatal(err)
	}
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestReplayCountsEachRecordOnce: a replayed batch partly succeeds, then
// the retry of the rest fails as a whole request. Re-sending the whole
// record would bring the stored items back as 409s, counted a second time
// as duplicates; only the rest may be sent again.
func TestReplayCountsEachRecordOnce(t *testing.T) {
	srv := estest.New(t)
	dir := t.TempDir()
	const n, failing = 40, 10
	spoolRecord(t, dir, "logs-svc-default", 0, n)
	srv.FailItems(failing, 503)                       // first replay request: 30 stored, 10 to retry
	srv.Inject(estest.Fault{Delay: time.Millisecond}) // ... which goes through
	srv.Inject(estest.Fault{Status: 503})             // the retry of the 10 fails as a whole
	exp := faultExporter(t, srv, elasticsearch.WithSpoolDir(dir))
	waitFor(t, 20*time.Second, "the spool to be replayed", func() bool {
		s := exp.Stats()
		return s.Replayed >= n && s.InSpool == 0
	})
	s := exp.Stats()
	if s.Delivered != n || s.Duplicates != 0 || s.Replayed != n || s.Recovered != n {
		t.Errorf("got delivered %d duplicates %d replayed %d recovered %d, want %d, 0, %d, %d (each record counted once)",
			s.Delivered, s.Duplicates, s.Replayed, s.Recovered, n, n, n)
	}
	if s.Produced+s.Recovered != s.Delivered+s.Duplicates+s.DeadLettered+s.Dropped.Total()+s.InSpool+s.InFlight {
		t.Errorf("stats do not add up: %+v", s)
	}
	assertExactlyOnce(t, storedSeqs(t, srv, "logs-*"), rangeInts(0, n))
}
