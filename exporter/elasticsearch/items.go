package elasticsearch

import (
	"bytes"
	"encoding/json"
	"fmt"
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

// metadataFields are the names Elasticsearch reserves at the top level of
// a document ("Field [_id] is a metadata field and cannot be added inside a
// document").
var metadataFields = map[string]bool{
	"_id": true, "_index": true, "_source": true, "_routing": true, "_ignored": true,
	"_ignored_source": true, "_seq_no": true, "_primary_term": true, "_version": true,
	"_tier": true, "_field_names": true, "_doc_count": true, "_data_stream_timestamp": true,
	"_nested_path": true, "_feature": true, "_tsid": true, "_ts_routing_hash": true, "_size": true,
}

// repairItem rewrites an item that Elasticsearch rejected because a user
// attribute used a metadata field name (a top-level "_id" is common): the
// offending top-level keys move under "attributes.", so the record is
// stored instead of dead-lettered. It reports false for any other error,
// or when there is nothing to rename (so a repair is tried once).
func repairItem(item, reason []byte) ([]byte, bool) {
	if !bytes.Contains(reason, []byte("is a metadata field and cannot be added inside a document")) {
		return nil, false
	}
	nl := bytes.IndexByte(item, '\n')
	if nl < 0 {
		return nil, false
	}
	doc, changed := renameMetadataKeys(item[nl+1:])
	if !changed {
		return nil, false
	}
	out := make([]byte, 0, len(item)+32)
	out = append(out, item[:nl+1]...)
	return append(out, doc...), true
}

// renameMetadataKeys prefixes the top-level keys of a JSON object that are
// metadata field names with "attributes.".
func renameMetadataKeys(doc []byte) ([]byte, bool) {
	var out []byte
	last, depth, changed := 0, 0, false
	for i := 0; i < len(doc); i++ {
		switch doc[i] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		case '"':
			j := i + 1
			for j < len(doc) && doc[j] != '"' {
				if doc[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(doc) {
				return doc, false
			}
			if depth == 1 {
				k := j + 1
				for k < len(doc) && (doc[k] == ' ' || doc[k] == '\t' || doc[k] == '\r') {
					k++
				}
				if k < len(doc) && doc[k] == ':' && metadataFields[string(doc[i+1:j])] {
					out = append(out, doc[last:i+1]...)
					out = append(out, "attributes."...)
					last, changed = i+1, true
				}
			}
			i = j
		}
	}
	if !changed {
		return doc, false
	}
	return append(out, doc[last:]...), true
}
