package elasticsearch_test

import (
	"testing"

	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/internal/estest"
)

// A quiet service during an outage seals a batch every flush interval
// holding a few records. The queue cap (WithQueueBytes) counts their
// bytes; the memory the waiting batches hold must stay within a small
// factor of it, not a flush size per batch.
func TestQueueMemoryFollowsQueuedBytes(t *testing.T) {
	t.Parallel()
	srv := estest.New(t)
	const flushBytes = 64 << 10
	exp := faultExporter(t, srv, elasticsearch.WithFlushBytes(flushBytes), elasticsearch.WithQueueBytes(1<<20))
	if err := srv.SetRefused(true); err != nil {
		t.Fatal(err)
	}
	sink := exp.LogSink()
	for i := range 200 {
		seqDocs(t, sink, i, 1)
		elasticsearch.Seal(exp) // one flush interval passes
	}
	queued := exp.Stats().QueuedBytes
	if held := elasticsearch.HeldBytes(exp); held > 2*queued {
		t.Errorf("waiting batches hold %d bytes for %d queued bytes (%d batches sealed), want at most twice", held, queued, 200)
	}
	if err := srv.SetRefused(false); err != nil {
		t.Fatal(err)
	}
}
