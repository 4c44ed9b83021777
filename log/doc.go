// Package log provides the slog.Handler behind glassbox: each record is
// encoded once as an Elastic Common Schema (ECS) JSON document carrying the
// correlation, trace and span IDs of its context, and the same bytes are
// handed to every configured Sink (console, file, Elasticsearch, OTLP,
// Sentry breadcrumbs).
//
// Users keep calling log/slog; most programs get the handler from
// glassbox.Start, or build one directly:
//
//	logger := slog.New(log.NewHandler(log.WithService(log.Service{Name: "checkout"})))
//	logger.InfoContext(ctx, "payment authorised", "amount", 129.95)
//
// # What a document contains
//
// @timestamp (RFC 3339, nanoseconds, UTC; see Entry for a record without
// a time or with one Elasticsearch cannot store, whose own time goes to
// event.start), log.level, message, ecs.version,
// the service fields (service.name, service.version, service.environment,
// host.name, event.dataset, data_stream.*), correlation.id, trace.id and
// span.id when the context has them, optional log.origin.*, then the
// record's attributes at the top level, groups as nested objects.
//
// Values: strings escaped so that a document is always one line of valid
// UTF-8 JSON (control characters, ANSI escapes, U+2028/U+2029 escaped;
// invalid UTF-8 replaced by U+FFFD); durations as integer nanoseconds;
// times as RFC 3339 strings; NaN and ±Inf as strings; []byte as a string
// when it is UTF-8 text, base64 otherwise; the first error as error.message,
// error.type and error.stack_trace (see StackTracer); fmt.Stringer through
// String; anything else through encoding/json. A panicking String, Error,
// LogValue or MarshalJSON method is reported in the value, never propagated.
//
// Keys: values under keys that match the Redactor (case-insensitive, at
// word boundaries: "password", "db_password", "userPassword") become
// "[REDACTED]". Keys that Elasticsearch would reject are made safe, at
// any depth (groups, maps, structs): empty or blank keys and dot-separated
// segments become '_'; a key that repeats one of the same object, or
// shadows a field the handler writes (message, @timestamp,
// correlation.id, ...) or an Elasticsearch metadata field (_id, ...),
// gets a suffix ("message_2"). The rules are internal/ecs's, shared with
// span documents.
//
// # The flight recorder
//
// With WithFlightRecorder, records below the level logged with the
// context of an open Flight (middleware.WithFlightRecorder opens one per
// request) are kept instead of dropped, and written, in order, with their
// own times and glassbox.replayed: true, only if the request fails; see
// FlightRecorder.
//
// The handler allocates nothing per record for the standard kinds. It
// passes testing/slogtest.
package log
