// Package estest is an in-process Elasticsearch test server that speaks the
// real wire protocol strictly: NDJSON _bulk with per-item results, create-only
// data streams, 409 on a seen _id, dynamic mapping with the real conflict
// errors, templates, ILM policies, term search, and injectable faults.
// Documents are held to Elasticsearch 8.19's parser rules (field names,
// duplicate keys, UTF-8, metadata fields, the date_nanos range; see
// rules.go), and Create checks one document in process, for fuzz tests.
//
// It exists so that exporters are tested with the real go-elasticsearch
// client against a far end that rejects what Elasticsearch would reject:
//
//	srv := estest.New(t)
//	client, _ := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{srv.URL()}})
package estest
