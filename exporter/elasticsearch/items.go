package elasticsearch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/glassbox-obs/glassbox/internal/ecs"
)

type itemOutcome struct {
	Status int             `json:"status"`
	Error  json.RawMessage `json:"error"`
}

// itemResults settles the items of b from their statuses in a bulk
// answer: 200/201 delivered, 409 a duplicate (stored already), 429/5xx to
// be retried, a metadata-field rejection repaired and re-sent, any other
// 400-class error dead-lettered. It returns the batch of what is to be sent
// again, after the backoff wait, or nil when every item is settled; ok is
// false when the wait was cut short by shutdown.
func (s *sender) itemResults(b *batch, items []itemOutcome, attempt *int) (next *batch, ok bool) {
	e := s.e
	var retry []int
	var repaired [][]byte
	var firstErr []byte
	delivered, duplicates := 0, 0
	for i, it := range items {
		switch {
		case it.Status == 200 || it.Status == 201:
			delivered++
		case it.Status == 409:
			duplicates++
		case retryableStatus(it.Status):
			retry = append(retry, i)
		default:
			if fixed, ok := repairItem(b.item(i), it.Error); ok {
				repaired = append(repaired, fixed)
				continue
			}
			s.deadLetter(b, b.item(i), it.Status, it.Error)
			if firstErr == nil {
				firstErr = it.Error
			}
		}
	}
	s.settle(b, &e.st.delivered, delivered)
	s.settle(b, &e.st.duplicates, duplicates)
	if firstErr != nil {
		e.report(fmt.Errorf("elasticsearch: document rejected, written to the dead-letter file: %s", firstErr))
	}
	if len(retry) == 0 && len(repaired) == 0 {
		e.release(b)
		return nil, true
	}
	nb := e.subset(b, 0, 0, retry)
	for _, item := range repaired {
		nb.appendItem(item)
	}
	e.st.repaired.Add(int64(len(repaired)))
	e.replaceBatch(b, nb)
	if !nb.replay && e.cfg.clock.now().Sub(nb.first) > e.cfg.maxElapsed {
		s.giveUp(nb)
		return nil, true
	}
	if len(retry) == 0 {
		return nb, true // only repaired documents: send them now
	}
	*attempt++
	e.st.retried.Add(int64(len(retry)))
	return nb, s.pause(e.backoff(*attempt), false)
}

func retryableStatus(st int) bool { return st == 429 || st == 408 || st >= 500 }

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

// reframe answers a bulk request rejected as a whole. enqueue does not
// look for line breaks inside documents (the log.Entry contract rules
// them out), but one would break the NDJSON framing of every item after
// it: so when a request fails, the line breaks inside documents become
// spaces (counted as Repaired) and the batch is returned to be sent again.
// It returns nil when no document has one.
func (e *Exporter) reframe(b *batch) *batch {
	var nb *batch
	for i := 0; i < b.n(); i++ {
		if bytes.Count(b.item(i), []byte{'\n'}) == 2 {
			continue
		}
		if nb == nil {
			nb = e.subset(b, 0, b.n(), nil)
		}
		it := nb.item(i)
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
