// Package spandoc encodes OpenTelemetry spans as Elastic Common Schema
// (ECS) JSON documents, appended into a caller's buffer with no
// reflection, so that every exporter writing span documents
// (Elasticsearch, local files) produces the same fields. Field names and
// key rules come from package ecs, as the log handler's do.
//
// The one call most code needs:
//
//	doc = spandoc.Append(doc[:0], span, &service, redactor)
package spandoc
