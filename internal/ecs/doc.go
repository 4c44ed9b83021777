// Package ecs encodes OpenTelemetry spans as Elastic Common Schema (ECS)
// JSON documents, appended into a caller's buffer with no reflection, so
// that every exporter writing span documents (Elasticsearch, local files)
// produces the same fields.
//
// The one call most code needs:
//
//	doc = ecs.AppendSpan(doc[:0], span, &service)
package ecs
