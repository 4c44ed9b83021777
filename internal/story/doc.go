// Package story finds every log document and span of one request, across
// services and traces, and tells it: as a terminal waterfall with each log
// line under its span, as a JSON document, or as one self-contained HTML
// page. It is the engine of `glassbox trace`.
//
// A Source (local NDJSON files written by exporter/file or the console, or
// Elasticsearch) answers term queries on correlation.id, trace.id and
// error.id; Collect expands the ID it is given (correlation ID → its traces
// → their other correlation IDs ...) until no new ID appears; Build turns
// the documents into a Story:
//
//	res, err := story.Collect(ctx, src, story.Request{ID: id, Limit: 100000})
//	s := story.Build(res)
//	err = story.WriteText(os.Stdout, s, story.TextOptions{Width: 100})
package story
