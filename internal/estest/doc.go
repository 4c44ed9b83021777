// Package estest is an in-process Elasticsearch test server that speaks the
// real wire protocol strictly: NDJSON _bulk with per-item results, create-only
// data streams, 409 on a seen _id, dynamic mapping with the real conflict
// errors, templates, ILM policies, term search, and injectable faults.
//
// It exists so that exporters are tested with the real go-elasticsearch
// client against a far end that rejects what Elasticsearch would reject:
//
//	srv := estest.New(t)
//	client, _ := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{srv.URL()}})
package estest
