package logtest

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/glassbox-obs/glassbox/log"
)

// Record is one record as the handler wrote it.
type Record struct {
	// Time is the record's time.
	Time time.Time
	// Level is the record's level.
	Level slog.Level
	// Message is the record's message.
	Message string
	// CorrelationID, TraceID and SpanID are the IDs the handler read from
	// the record's context; empty when it had none.
	CorrelationID, TraceID, SpanID string
	// Doc is the ECS document, decoded with encoding/json: numbers are
	// float64, groups are map[string]any.
	Doc map[string]any
	// JSON is the document as the handler encoded it, without the
	// trailing newline.
	JSON []byte
}

// Attr returns the value of the document's field key: a top-level field
// as written ("order_id", "correlation.id", "error.message"), or a field
// inside a group, its path joined by dots ("card.brand").
func (r Record) Attr(key string) (any, bool) {
	if v, ok := r.Doc[key]; ok {
		return v, true
	}
	m := r.Doc
	for {
		head, rest, more := strings.Cut(key, ".")
		v, ok := m[head]
		if !ok || !more {
			return v, ok
		}
		if m, ok = v.(map[string]any); !ok {
			return nil, false
		}
		key = rest
	}
}

// Attrs returns the record's attributes: the document's fields but those
// the handler writes on every record (time, level, message, service, IDs,
// origin). An error attribute appears as error.message, error.type and
// error.stack_trace.
func (r Record) Attrs() map[string]any {
	m := make(map[string]any, len(r.Doc))
	for k, v := range r.Doc {
		if !handlerField(k) {
			m[k] = v
		}
	}
	return m
}

// handlerField reports whether the handler writes top-level field k itself
// (a user attribute with such a name is renamed, "message_2").
//
// TODO(ecs): the list is ecs.LogFields() once the ECS vocabulary package
// (issue 11 item 8) is merged; then this becomes a call to it.
func handlerField(k string) bool {
	switch k {
	case "@timestamp", "log.level", "message", "ecs.version", "log.logger",
		"service.name", "service.version", "service.environment", "host.name",
		"event.dataset", "data_stream.type", "data_stream.dataset",
		"data_stream.namespace", "correlation.id", "trace.id", "span.id",
		"log.origin.file.name", "log.origin.file.line", "log.origin.function",
		"event.start":
		return true
	}
	return false
}

// Recorder is a log.Sink that keeps every record in memory, in the order
// written. Its methods are safe for concurrent use. Records, the filters
// and TakeAll return new slices the caller owns; the records' Doc and JSON
// are shared with the Recorder and must only be read. The zero value is
// ready to use.
type Recorder struct {
	mu      sync.Mutex
	records []Record
}

var _ log.Sink = (*Recorder)(nil)

// NewRecorder returns an empty Recorder, to pass to log.WithSink or
// glassbox.WithSink.
func NewRecorder() *Recorder { return &Recorder{} }

// NewLogger returns a logger over a glassbox log.Handler built with opts
// that writes to a new Recorder, and nowhere else unless opts add sinks.
func NewLogger(opts ...log.Option) (*slog.Logger, *Recorder) {
	rec := NewRecorder()
	h := log.NewHandler(append(append([]log.Option(nil), opts...), log.WithSink(rec))...)
	return slog.New(h), rec
}

// Write decodes e's document and keeps it. It returns an error only for a
// document that is not a JSON object, which the glassbox handler never
// writes.
func (r *Recorder) Write(_ context.Context, e *log.Entry) error {
	if e == nil {
		return nil
	}
	raw := strings.TrimSuffix(string(e.Doc), "\n")
	var doc map[string]any
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		return err
	}
	rec := Record{
		Time:          e.Time,
		Level:         e.Level,
		Message:       e.Message,
		CorrelationID: e.IDs.CorrelationID,
		Doc:           doc,
		JSON:          []byte(raw),
	}
	if e.IDs.TraceID.IsValid() {
		rec.TraceID = e.IDs.TraceID.String()
	}
	if e.IDs.SpanID.IsValid() {
		rec.SpanID = e.IDs.SpanID.String()
	}
	r.mu.Lock()
	r.records = append(r.records, rec)
	r.mu.Unlock()
	return nil
}

// Shutdown does nothing: the records stay readable.
func (r *Recorder) Shutdown(context.Context) error { return nil }

// Len returns the number of records kept.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.records)
}

// Records returns the records kept, oldest first.
func (r *Recorder) Records() []Record { return r.Filter(func(Record) bool { return true }) }

// Filter returns the records for which keep is true, oldest first.
func (r *Recorder) Filter(keep func(Record) bool) []Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Record
	for _, rec := range r.records {
		if keep(rec) {
			out = append(out, rec)
		}
	}
	return out
}

// FilterMessage returns the records with message msg.
func (r *Recorder) FilterMessage(msg string) []Record {
	return r.Filter(func(rec Record) bool { return rec.Message == msg })
}

// FilterCorrelationID returns the records of one request: those whose
// context carried correlation ID id.
func (r *Recorder) FilterCorrelationID(id string) []Record {
	return r.Filter(func(rec Record) bool { return rec.CorrelationID == id })
}

// TakeAll returns the records kept and forgets them.
func (r *Recorder) TakeAll() []Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.records
	r.records = nil
	return out
}
