package log

import (
	"context"
	"log/slog"
	"time"

	"github.com/glassbox-obs/glassbox/trace"
)

// Entry is one log record after encoding: the ECS JSON document and the
// facts sinks route on, so that no sink has to decode or re-encode it.
//
// Doc is complete and ready to ship: a sink appends it to a request body,
// a file or a queue as it is, with no splicing, re-scanning or renaming.
// Every sink, glassbox's (Elasticsearch, OTLP, Sentry, files) or another,
// can rely on what Doc guarantees, and whoever builds an Entry by hand
// must uphold it: a broken Doc may cost a sink's whole batch.
//
// An Entry and its Doc are owned by the Handler and reused after Write
// returns: a sink that keeps anything must copy it.
type Entry struct {
	// Time is the value of Doc's @timestamp: the record's time, or the
	// time the record was handled when the record had none (see Untimed)
	// or had one Elasticsearch's date_nanos cannot hold (before
	// 1970-01-01T00:00:00Z or after 2262-04-11T23:47:16.854775807Z; Doc
	// then carries the record's own time as event.start). Never zero,
	// always within that range.
	Time time.Time
	// Untimed reports that the record had no time (slog's zero
	// Record.Time). Doc still carries @timestamp, because Elasticsearch
	// and OTLP need one. A sink that writes what a slog handler writes
	// (WriterSink) leaves it out, following slog's rule that a zero time
	// is not output: it writes AppendWithoutTimestamp's bytes instead of
	// Doc. Sinks shipping to a backend ignore Untimed.
	Untimed bool
	// Level is the record's level.
	Level slog.Level
	// Message is the record's message.
	Message string
	// IDs are the correlation, trace and span IDs read from the record's
	// context.
	IDs trace.IDs
	// Err is the first error value among the record's attributes, or nil.
	// The Sentry sink reports it; others may ignore it.
	Err error
	// Doc is the ECS JSON document: exactly one JSON object followed by a
	// single '\n'; valid UTF-8; no byte below 0x20 anywhere else (so no
	// line break: it is one NDJSON line as it is); no object, at any
	// depth, with two equal keys, an empty or blank key, or a key with an
	// empty or blank dot-separated segment; no top-level key that is an
	// Elasticsearch metadata field. It begins with its @timestamp member,
	// exactly TimestampLen bytes:
	//
	//	{"@timestamp":"2006-01-02T15:04:05.000000000Z",
	//
	// (Time in UTC, nine fractional digits), followed by "log.level".
	Doc []byte
}

// TimestampLen is the length of the @timestamp member every Entry.Doc
// begins with: `{"@timestamp":"2006-01-02T15:04:05.000000000Z",`.
const TimestampLen = len(`{"@timestamp":"2006-01-02T15:04:05.000000000Z",`)

// timestampPrefix is how that member begins.
const timestampPrefix = `{"@timestamp":"`

// AppendWithoutTimestamp appends Doc without its @timestamp member: '{'
// and Doc[TimestampLen:]. It is what a slog handler writes for a record
// without a time (see Untimed). A Doc that does not begin as Entry
// promises is appended whole.
func (e *Entry) AppendWithoutTimestamp(dst []byte) []byte {
	d := e.Doc
	if len(d) <= TimestampLen || string(d[:len(timestampPrefix)]) != timestampPrefix || d[TimestampLen-1] != ',' || d[TimestampLen-2] != '"' {
		return append(dst, d...)
	}
	return append(append(dst, '{'), d[TimestampLen:]...)
}

// Sink receives every encoded record that passes the handler's level.
//
// Concurrency: Write is called concurrently from every goroutine that logs;
// implementations synchronise themselves. Write must not block on a remote
// backend (queue and return), must not retain e or e.Doc after it returns,
// and must never log through the handler that feeds it. An error returned by
// Write is passed to the handler's error handler (rate-limited); the record
// still goes to the other sinks.
//
// Shutdown flushes what the sink holds and releases its resources, returning
// by ctx's deadline. Write after Shutdown must not panic.
type Sink interface {
	Write(ctx context.Context, e *Entry) error
	Shutdown(ctx context.Context) error
}

// Flusher is implemented by sinks that can deliver what they buffer
// without shutting down.
type Flusher interface {
	Flush(ctx context.Context) error
}
