package elasticsearch

import (
	"github.com/glassbox-obs/glassbox/internal/jsonenc"
	"github.com/glassbox-obs/glassbox/log"
)

// actionPrefix builds the start of a create action line for the data
// stream <kind>-<dataset>-<namespace>.
func actionPrefix(kind string, s log.Service) string {
	b := []byte(`{"create":{"_index":`)
	b = jsonenc.AppendString(b, DataStream(kind, s))
	return string(append(b, `,"_id":"`...))
}

// DataStream returns the data stream name for kind ("logs" or "traces"):
// <kind>-<dataset>-<namespace>, with the dataset and namespace made valid.
func DataStream(kind string, s log.Service) string {
	ds := s.Dataset
	if ds == "" {
		ds = s.Name
	}
	ns := s.Namespace
	if ns == "" {
		ns = "default"
	}
	return kind + "-" + log.DatasetName(ds) + "-" + log.DatasetName(ns)
}

// appendID appends a new document ID: the exporter's random prefix and a
// counter, base64url. A retried document keeps the ID it was given here,
// so Elasticsearch stores it once (a second create answers 409).
func (e *Exporter) appendID(b []byte) []byte {
	b = append(b, e.idPrefix...)
	n := e.idSeq.Add(1)
	var tmp [11]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = idAlphabet[n&63]
		n >>= 6
		if n == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
