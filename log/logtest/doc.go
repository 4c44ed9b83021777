// Package logtest is an in-memory log.Sink for tests of code that logs
// through glassbox: a Recorder keeps every record the handler writes, as
// the decoded ECS document, with accessors for its level, message, IDs and
// attributes, so a test asserts on what would have been shipped (redacted,
// with its correlation ID) instead of parsing stdout.
//
// A Recorder is safe for concurrent use. Most tests need one call:
//
//	logger, rec := logtest.NewLogger()
//	logger.InfoContext(ctx, "order placed", "order_id", 42)
//	r := rec.Records()[0] // r.Message == "order placed", r.Attr("order_id") == 42.0
//
// With glassbox.Start, pass a Recorder as a sink:
//
//	rec := logtest.NewRecorder()
//	tel, err := glassbox.Start(ctx, glassbox.WithSink(rec), glassbox.WithLogWriter(nil))
package logtest
