package log

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/glassbox-obs/glassbox/internal/textsafe"
)

// Format is how a WriterSink renders documents.
type Format int

const (
	// FormatJSON writes each ECS document as one JSON line, byte for byte.
	FormatJSON Format = iota
	// FormatText writes a human-readable line for local terminals:
	//   15:04:05.000 INFO  message  key=value ... correlation.id=...
	// It is rendered from the ECS document, so it shows exactly what the
	// other sinks receive. Not meant for machines.
	FormatText
)

// WriterSink writes documents to an io.Writer, one Write call per record,
// so concurrent records never interleave: under a mutex, except for JSON to
// an *os.File (whose writes the runtime already serialises whole, as the
// kernel file descriptor lock does for each call) or io.Discard. Writes are
// synchronous: use it for stdout, stderr and local files, not for network
// connections.
type WriterSink struct {
	mu       sync.Mutex
	w        io.Writer
	format   Format
	lockFree bool
	closed   atomic.Bool
	scrat    []byte
	untimed  []byte
}

var _ Sink = (*WriterSink)(nil)

// NewWriterSink returns a sink writing to w in the given format.
func NewWriterSink(w io.Writer, format Format) *WriterSink {
	_, isFile := w.(*os.File)
	return &WriterSink{w: w, format: format, lockFree: format == FormatJSON && (isFile || w == io.Discard)}
}

// Write writes e.Doc (or its text rendering) to the writer, without
// @timestamp when the record had no time (see Entry.Untimed), as slog
// handlers do.
func (s *WriterSink) Write(_ context.Context, e *Entry) error {
	if s.w == nil || s.closed.Load() {
		return nil
	}
	if s.lockFree && !e.Untimed {
		return writeErr(s.w.Write(e.Doc))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := e.Doc
	if e.Untimed {
		s.untimed = e.AppendWithoutTimestamp(s.untimed[:0])
		out = s.untimed
	}
	if s.format == FormatText {
		s.scrat = AppendText(s.scrat[:0], out)
		out = s.scrat
	}
	return writeErr(s.w.Write(out))
}

func writeErr(_ int, err error) error {
	if err != nil {
		return fmt.Errorf("log writer: %w", err)
	}
	return nil
}

// Shutdown syncs the writer when it can (an *os.File) and stops writing.
// It does not close the writer.
func (s *WriterSink) Shutdown(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed.Store(true)
	if sy, ok := s.w.(interface{ Sync() error }); ok {
		if err := sy.Sync(); err != nil && !isUnsyncable(err) {
			return err
		}
	}
	return nil
}

// isUnsyncable reports the errors Sync returns for terminals and pipes,
// which are not failures.
func isUnsyncable(err error) bool {
	s := err.Error()
	return strings.Contains(s, "invalid argument") || strings.Contains(s, "not supported") ||
		strings.Contains(s, "inappropriate ioctl")
}

// textSkip lists fields the text format leaves out as noise on a terminal.
var textSkip = map[string]bool{
	"@timestamp": true, "log.level": true, "message": true, "ecs.version": true,
	"service.name": true, "service.version": true, "service.environment": true,
	"host.name": true, "event.dataset": true, "data_stream.type": true,
	"data_stream.dataset": true, "data_stream.namespace": true,
}

// AppendText renders an ECS JSON document as a human-readable line:
// time, level, message, then the remaining fields as key=value in document
// order, nested objects flattened with dots, error.stack_trace indented
// on following lines. Values are quoted when they contain spaces or
// control characters, so one record stays one line (except the stack).
func AppendText(dst []byte, doc []byte) []byte {
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return append(append(dst, doc...), '\n')
	}
	str := func(k string) string {
		var s string
		_ = json.Unmarshal(m[k], &s)
		return s
	}
	ts := str("@timestamp")
	if i := strings.IndexByte(ts, 'T'); i >= 0 && len(ts) >= i+13 {
		ts = ts[i+1 : i+13]
	}
	dst = append(dst, ts...)
	dst = append(dst, ' ')
	dst = append(dst, fmt.Sprintf("%-5s", strings.ToUpper(str("log.level")))...)
	dst = append(dst, ' ')
	dst = appendTextValue(dst, str("message"), false)
	var stack string
	for _, k := range orderedKeys(doc) {
		if textSkip[k] {
			continue
		}
		if k == "error.stack_trace" {
			stack = str(k)
			continue
		}
		dst = appendTextField(dst, k, m[k])
	}
	dst = append(dst, '\n')
	if stack != "" {
		for _, line := range strings.Split(strings.TrimRight(stack, "\n"), "\n") {
			dst = append(dst, "    "...)
			dst = appendTextValue(dst, line, false)
			dst = append(dst, '\n')
		}
	}
	return dst
}

func appendTextField(dst []byte, key string, raw json.RawMessage) []byte {
	if len(raw) > 0 && raw[0] == '{' {
		var sub map[string]json.RawMessage
		if json.Unmarshal(raw, &sub) == nil {
			keys := orderedKeys(raw)
			if len(keys) != len(sub) {
				keys = keys[:0]
				for k := range sub {
					keys = append(keys, k)
				}
				sort.Strings(keys)
			}
			for _, k := range keys {
				dst = appendTextField(dst, key+"."+k, sub[k])
			}
			return dst
		}
	}
	dst = append(dst, "  "...)
	dst = appendTextValue(dst, key, false)
	dst = append(dst, '=')
	var s string
	if len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		return appendTextValue(dst, s, true)
	}
	return append(dst, raw...)
}

// appendTextValue writes s, quoted with Go syntax (%+q: ASCII only, every
// other rune escaped) when it would be ambiguous or unsafe on a terminal.
func appendTextValue(dst []byte, s string, quoteSpaces bool) []byte {
	needQuote := s == "" && quoteSpaces
	for _, r := range s {
		// Controls (C0 and C1: U+009B starts a terminal escape), bidi
		// overrides, line separators and undecodable bytes (RuneError)
		// are never written raw to a terminal.
		if r == utf8.RuneError || r == '"' || textsafe.UnsafeRune(r) ||
			(quoteSpaces && (r == ' ' || r == '=')) {
			needQuote = true
			break
		}
	}
	if needQuote {
		return fmt.Appendf(dst, "%+q", s)
	}
	return append(dst, s...)
}

// orderedKeys returns the top-level keys of a JSON object in document order.
func orderedKeys(doc []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(doc))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return keys
		}
		k, _ := t.(string)
		keys = append(keys, k)
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return keys
		}
	}
	return keys
}
