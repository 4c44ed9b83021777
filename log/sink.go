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
// An Entry and its Doc are owned by the Handler and reused after Write
// returns: a sink that keeps anything must copy it.
type Entry struct {
	// Time is the record's time, or the time it was handled when the record
	// had none. Never zero.
	Time time.Time
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
	// single '\n', valid UTF-8, no other line breaks. It begins with
	// `{"@timestamp":` unless the record's time was zero, which slog defines
	// as "no time"; a sink whose backend requires a timestamp (Elasticsearch)
	// then inserts Time (see HasTimestamp).
	Doc []byte
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

// timestampPrefix is how every document with a time begins.
const timestampPrefix = `{"@timestamp":`

// HasTimestamp reports whether e.Doc carries @timestamp.
func (e *Entry) HasTimestamp() bool {
	return len(e.Doc) >= len(timestampPrefix) && string(e.Doc[:len(timestampPrefix)]) == timestampPrefix
}
