package estest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
)

// Put installs an index template, component template or ILM policy as a
// PUT request to path would ("_index_template/glassbox-logs"), in process.
// It returns the error Elasticsearch would answer with, or nil.
func (s *Server) Put(path string, body []byte) error {
	req := httptest.NewRequest(http.MethodPut, "/"+strings.TrimPrefix(path, "/"), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if s.apiKey != "" {
		req.Header.Set("Authorization", "ApiKey "+s.apiKey)
	} else if s.user != "" {
		req.SetBasicAuth(s.user, s.pass)
	}
	rec := httptest.NewRecorder()
	s.serveHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return fmt.Errorf("PUT %s: HTTP %d: %s", path, rec.Code, bytes.TrimSpace(rec.Body.Bytes()))
	}
	return nil
}

// Create stores doc in index (a data stream or index, created from the
// installed templates on first use) under a new _id, exactly as one create
// item of a _bulk request, in process: fuzz tests check documents this way
// without an HTTP round trip each. doc is one NDJSON source line; one
// trailing '\n' is allowed, another line break would split the item.
// Create returns the item's error ("type: reason"), or nil when the
// document is stored.
func (s *Server) Create(index string, doc []byte) error {
	doc = bytes.TrimSuffix(doc, []byte("\n"))
	if i := bytes.IndexByte(doc, '\n'); i >= 0 {
		return fmt.Errorf("illegal_argument_exception: a line break at byte %d splits the document in a _bulk body", i)
	}
	s.mu.Lock()
	res := s.apply("create", index, "", doc)
	s.mu.Unlock()
	if res.Error != nil {
		if c := res.Error.CausedBy; c != nil {
			return fmt.Errorf("%s: %s (caused by %s: %s)", res.Error.Type, res.Error.Reason, c.Type, c.Reason)
		}
		return fmt.Errorf("%s: %s", res.Error.Type, res.Error.Reason)
	}
	return nil
}
