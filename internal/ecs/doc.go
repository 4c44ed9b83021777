// Package ecs is glassbox's Elastic Common Schema vocabulary: the ECS
// version, the names and Elasticsearch types of the fields glassbox
// writes, Elasticsearch's metadata fields, the range @timestamp can hold,
// and the rules that make any key safe as a field name. Log documents
// (package log), span documents (package spandoc) and the Elasticsearch
// bulk path all use it, so they cannot disagree.
//
// After the rules, no key is empty or blank, no dot-separated segment is
// empty or blank, no object repeats a key (comparing keys as JSON parsers
// decode them), no top-level key is a metadata field or a field the
// encoder writes itself, at any depth. The call most code needs:
//
//	b = keys.AppendKey(b, key, top) // `,"safe key":`
package ecs
