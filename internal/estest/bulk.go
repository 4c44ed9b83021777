package estest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

type shards struct {
	Total      int `json:"total"`
	Successful int `json:"successful"`
	Failed     int `json:"failed"`
}

type itemError struct {
	Type      string     `json:"type"`
	Reason    string     `json:"reason"`
	IndexUUID string     `json:"index_uuid,omitempty"`
	Shard     string     `json:"shard,omitempty"`
	Index     string     `json:"index,omitempty"`
	CausedBy  *itemError `json:"caused_by,omitempty"`
}

type itemResult struct {
	Index       string     `json:"_index"`
	ID          string     `json:"_id"`
	Version     int        `json:"_version,omitempty"`
	Result      string     `json:"result,omitempty"`
	Shards      *shards    `json:"_shards,omitempty"`
	SeqNo       *int64     `json:"_seq_no,omitempty"`
	PrimaryTerm int        `json:"_primary_term,omitempty"`
	Status      int        `json:"status"`
	Error       *itemError `json:"error,omitempty"`
}

var bulkMediaTypes = map[string]bool{
	"application/json": true, "application/x-ndjson": true,
	"application/vnd.elasticsearch+json": true, "application/vnd.elasticsearch+x-ndjson": true,
}

func (s *Server) nextFault() (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults) == 0 {
		return Fault{}, false
	}
	f := s.faults[0]
	s.faults[0].Count--
	if s.faults[0].Count <= 0 {
		s.faults = s.faults[1:]
	}
	return f, true
}

func (s *Server) bulk(w http.ResponseWriter, r *http.Request, defaultIndex string, body []byte) {
	start := time.Now()
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil || !bulkMediaTypes[mt] {
		writeJSON(w, 406, map[string]any{"error": "Content-Type header [" + ct + "] is not supported", "status": 406})
		return
	}
	if f, ok := s.nextFault(); ok {
		if f.Delay > 0 && !s.hold(r, f.Delay) {
			return
		}
		switch {
		case f.Body != nil:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(200)
			_, _ = w.Write(f.Body)
			return
		case f.Malformed:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(200)
			_, _ = w.Write([]byte(`{"errors":false,"took":1,"items":[{"create":{"_ind`))
			return
		case f.Status == 413:
			w.WriteHeader(413)
			return
		case f.Status == 429:
			writeError(w, 429, "es_rejected_execution_exception", "rejected execution of coordinating operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, coordinating_operation_bytes=1, max_coordinating_and_primary_bytes=0]")
			return
		case f.Status >= 500:
			writeError(w, f.Status, "unavailable_shards_exception", "[.ds-logs][0] primary shard is not active Timeout: [1m]")
			return
		case f.Status != 0:
			writeError(w, f.Status, "illegal_argument_exception", "injected fault")
			return
		}
	}
	if len(body) > s.maxContent || s.tooLarge(len(body)) {
		w.WriteHeader(413)
		return
	}
	if len(body) == 0 {
		writeError(w, 400, "action_request_validation_exception", "Validation Failed: 1: no requests added;")
		return
	}
	if body[len(body)-1] != '\n' {
		writeError(w, 400, "illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]")
		return
	}
	type op struct {
		action, index, id string
		source            []byte
	}
	var ops []op
	line := 0
	for rest := body; len(rest) > 0; {
		nl := bytes.IndexByte(rest, '\n')
		actionLine := rest[:nl]
		rest = rest[nl+1:]
		line++
		if len(bytes.TrimSpace(actionLine)) == 0 {
			continue
		}
		a, err := parseDoc(actionLine)
		if err != nil || a.kind != 'o' || len(a.members) != 1 || a.members[0].val.kind != 'o' {
			writeError(w, 400, "illegal_argument_exception", fmt.Sprintf("Malformed action/metadata line [%d], expected START_OBJECT but found [%s]", line, bodyPreview(actionLine)))
			return
		}
		o := op{action: a.members[0].key}
		switch o.action {
		case "create", "index", "update", "delete":
		default:
			writeError(w, 400, "illegal_argument_exception", fmt.Sprintf("Malformed action/metadata line [%d], expected field [create, delete, index, update] but found [%s]", line, o.action))
			return
		}
		meta := a.members[0].val
		for _, mb := range meta.members {
			switch mb.key {
			case "_index":
				o.index = mb.val.text()
			case "_id":
				o.id = mb.val.text()
			case "require_alias", "require_data_stream", "pipeline", "routing", "op_type", "dynamic_templates", "if_seq_no", "if_primary_term", "version", "version_type", "retry_on_conflict", "list_executed_pipelines":
			default:
				writeError(w, 400, "illegal_argument_exception", fmt.Sprintf("Action/metadata line [%d] contains an unknown parameter [%s]", line, mb.key))
				return
			}
		}
		if o.index == "" {
			o.index = defaultIndex
		}
		if o.index == "" {
			writeError(w, 400, "action_request_validation_exception", "Validation Failed: 1: index is missing;")
			return
		}
		if o.action != "delete" {
			if len(rest) == 0 {
				writeError(w, 400, "action_request_validation_exception", "Validation Failed: 1: source is missing;")
				return
			}
			nl := bytes.IndexByte(rest, '\n')
			o.source = rest[:nl]
			rest = rest[nl+1:]
			line++
		}
		ops = append(ops, o)
	}
	if len(ops) == 0 {
		writeError(w, 400, "action_request_validation_exception", "Validation Failed: 1: no requests added;")
		return
	}
	var out bytes.Buffer
	errors := false
	items := make([][]byte, 0, len(ops))
	s.mu.Lock()
	for _, o := range ops {
		res := s.apply(o.action, o.index, o.id, o.source)
		if res.Error != nil {
			errors = true
		}
		b, _ := json.Marshal(map[string]*itemResult{o.action: res})
		items = append(items, b)
	}
	if v, ok := r.URL.Query()["refresh"]; ok && (len(v) == 0 || v[0] != "false") {
		for _, o := range ops {
			if ix := s.indices[o.index]; ix != nil {
				ix.visible = len(ix.docs)
			}
		}
	}
	s.mu.Unlock()
	out.WriteString(`{"errors":`)
	out.WriteString(strconv.FormatBool(errors))
	out.WriteString(`,"took":`)
	out.WriteString(strconv.FormatInt(time.Since(start).Milliseconds(), 10))
	out.WriteString(`,"items":[`)
	for i, it := range items {
		if i > 0 {
			out.WriteByte(',')
		}
		out.Write(it)
	}
	out.WriteString("]}")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(200)
	_, _ = w.Write(out.Bytes())
}

func validIndexName(n string) error {
	if n != strings.ToLower(n) {
		return fmt.Errorf("Invalid index name [%s], must be lowercase", n)
	}
	if strings.ContainsAny(n, `\/*?"<>| ,#:`) {
		return fmt.Errorf("Invalid index name [%s], must not contain the following characters [' ','\"','*',',','/','<','>','?','\\','|']", n)
	}
	if strings.HasPrefix(n, "-") || strings.HasPrefix(n, "_") || strings.HasPrefix(n, "+") {
		return fmt.Errorf("Invalid index name [%s], must not start with '_', '-', or '+'", n)
	}
	if len(n) > 255 {
		return fmt.Errorf("Invalid index name [%s], index name is too long", n)
	}
	return nil
}

// apply runs one bulk operation; s.mu is held.
func (s *Server) apply(action, name, id string, source []byte) *itemResult {
	res := &itemResult{Index: name, ID: id}
	fail := func(status int, typ, reason string, cause *itemError) *itemResult {
		res.Status = status
		res.Error = &itemError{Type: typ, Reason: reason, CausedBy: cause}
		if ix := s.indices[name]; ix != nil {
			res.Index = ix.backing
			res.Error.Index, res.Error.IndexUUID, res.Error.Shard = ix.backing, "uuid-"+ix.name, "0"
		}
		return res
	}
	if s.itemFails() {
		return fail(503, "unavailable_shards_exception", "[0] primary shard is not active", nil)
	}
	if len(s.itemFaults) > 0 {
		f := &s.itemFaults[0]
		f.count--
		status := f.status
		if f.count <= 0 {
			s.itemFaults = s.itemFaults[1:]
		}
		if status == 429 {
			return fail(429, "es_rejected_execution_exception", "rejected execution of primary operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, primary_operation_bytes=1, max_coordinating_and_primary_bytes=0]", nil)
		}
		return fail(status, "unavailable_shards_exception", "[0] primary shard is not active", nil)
	}
	if err := validIndexName(name); err != nil {
		return fail(400, "invalid_index_name_exception", err.Error(), nil)
	}
	if len(id) > 512 {
		return fail(400, "action_request_validation_exception", fmt.Sprintf("Validation Failed: 1: id [%s] is too long, must be no longer than 512 bytes but was: %d;", id, len(id)), nil)
	}
	ix := s.indices[name]
	if ix == nil {
		var err error
		if ix, err = s.createIndex(name); err != nil {
			return fail(400, "illegal_argument_exception", err.Error(), nil)
		}
	}
	res.Index = ix.backing
	if ix.dataStream && (action == "update" || action == "delete" || (action == "index" && id != "")) {
		return fail(400, "illegal_argument_exception", "only write ops with an op_type of create are allowed in data streams", nil)
	}
	if action == "update" || action == "delete" {
		return fail(400, "illegal_argument_exception", "the test server supports only create and index", nil)
	}
	if id == "" {
		s.seqNo++
		id = "auto-" + strconv.FormatInt(s.seqNo, 36)
		res.ID = id
	}
	version := 1
	if old := ix.ids[id]; old != nil {
		if action == "create" {
			return fail(409, "version_conflict_engine_exception", fmt.Sprintf("[%s]: version conflict, document already exists (current version [1])", id), nil)
		}
		version = 2
	}
	if derr := invalidUTF8(source); derr != nil {
		return fail(derr.status, derr.typ, derr.reason, nil)
	}
	src, err := parseDoc(source)
	if err != nil {
		return fail(400, "document_parsing_exception", "[1:1] failed to parse: "+err.Error(), nil)
	}
	p, derr := ix.m.parseDocument(id, src)
	if derr != nil {
		var cause *itemError
		if derr.causedBy != nil {
			cause = &itemError{Type: derr.causedBy.typ, Reason: derr.causedBy.reason}
		}
		return fail(derr.status, derr.typ, derr.reason, cause)
	}
	ix.m.commit(p)
	d := &Doc{Index: ix.name, ID: id, Source: append(json.RawMessage(nil), source...), Ignored: p.ignored, terms: p.indexed}
	if old := ix.ids[id]; old != nil {
		*old = *d
	} else {
		ix.docs = append(ix.docs, d)
		ix.ids[id] = d
	}
	s.bulkDocs.Add(1)
	s.seqNo++
	seq := s.seqNo
	res.Version, res.Shards, res.SeqNo, res.PrimaryTerm = version, &shards{Total: 2, Successful: 1}, &seq, 1
	res.Result, res.Status = "created", 201
	if version > 1 {
		res.Result, res.Status = "updated", 200
	}
	return res
}

func sortStrings(s []string) { sort.Strings(s) }
