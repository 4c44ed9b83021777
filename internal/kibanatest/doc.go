// Package kibanatest is an in-process Kibana that speaks the saved-objects
// import API (POST [/s/<space>]/api/saved_objects/_import) the way Kibana
// 8.x does, and rejects what Kibana rejects: a request without kbn-xsrf
// (400) or without valid credentials (401), a malformed NDJSON line or a
// typeMigrationVersion newer than it knows (400 for the whole file), an
// unknown type (unsupported_type) or a reference to an object neither in
// the file nor already stored (missing_references) for that object.
//
// It is stricter than Kibana where Kibana would accept an object and fail
// only when a user opens it: a Lens layer without its data-view reference,
// a dashboard panel whose panelRefName names no reference, a saved search
// whose indexRefName is missing, attributes Kibana keeps as JSON text that
// do not parse. Those objects get an error of type "unknown", status 400.
//
//	srv := kibanatest.New(t, kibanatest.WithAPIKey("c2VjcmV0"))
//	// POST srv.URL()+"/api/saved_objects/_import?overwrite=true"
package kibanatest
