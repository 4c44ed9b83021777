package elasticsearch

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/glassbox-obs/glassbox/internal/jsonenc"
)

// deadLetter appends rejected documents to an NDJSON file, one line each:
//
//	{"@timestamp":"…","status":400,"error":{…},"action":{"create":{…}},"document":{…}}
//
// The file is opened on the first rejected document and bounded in size;
// beyond the bound documents are only counted.
type deadLetter struct {
	path string
	max  int64

	mu   sync.Mutex
	f    *os.File
	size int64
	err  error
	buf  []byte
}

// DefaultDeadLetterFile is the dead-letter file of an exporter without
// WithDeadLetterFile: dead-letter.ndjson in spoolDir, or, when spoolDir is
// "", glassbox-dead-letter.ndjson in os.TempDir(). Tools that look for
// rejected documents (glassbox doctor) find the file with it.
func DefaultDeadLetterFile(spoolDir string) string {
	if spoolDir != "" {
		return filepath.Join(spoolDir, "dead-letter.ndjson")
	}
	return filepath.Join(os.TempDir(), "glassbox-dead-letter.ndjson")
}

func newDeadLetter(path string, max int64) *deadLetter {
	return &deadLetter{path: path, max: max}
}

// deadLetter records one item (action line + document line) that
// Elasticsearch rejected for good.
func (e *Exporter) deadLetter(item []byte, status int, reason []byte) {
	e.st.deadLettered.Add(1)
	if err := e.dl.write(item, status, reason); err != nil {
		e.report(err)
	}
}

func (d *deadLetter) write(item []byte, status int, reason []byte) error {
	action, doc := item, []byte(nil)
	if i := bytes.IndexByte(item, '\n'); i >= 0 {
		action, doc = item[:i], bytes.TrimRight(item[i+1:], "\n")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return nil // reported once already
	}
	b := d.buf[:0]
	b = append(b, `{"@timestamp":`...)
	b = jsonenc.AppendTime(b, time.Now())
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"error":`...)
	b = appendRaw(b, reason)
	b = append(b, `,"action":`...)
	b = appendRaw(b, action)
	b = append(b, `,"document":`...)
	b = appendRaw(b, doc)
	b = append(b, "}\n"...)
	if cap(b) <= 1<<20 {
		d.buf = b
	}
	if d.size+int64(len(b)) > d.max {
		return nil // counted, not written
	}
	if d.f == nil {
		if err := os.MkdirAll(filepath.Dir(d.path), 0o700); err != nil {
			d.err = err
			return err
		}
		f, err := os.OpenFile(d.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			d.err = err
			return err
		}
		if fi, err := f.Stat(); err == nil {
			d.size = fi.Size()
		}
		d.f = f
	}
	n, err := d.f.Write(b)
	d.size += int64(n)
	return err
}

// appendRaw embeds v as JSON when it is valid JSON, else as a string.
func appendRaw(b, v []byte) []byte {
	if len(v) == 0 {
		return append(b, "null"...)
	}
	if json.Valid(v) {
		return append(b, v...)
	}
	return jsonenc.AppendBytesAsString(b, v)
}

func (d *deadLetter) close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.f == nil {
		return nil
	}
	err := d.f.Close()
	d.f = nil
	d.err = os.ErrClosed
	return err
}
