package estest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// builtinLogs mirrors the "logs" index template Elasticsearch ships
// (logs-*-*, priority 100, data stream). Its dynamic mapping has none of
// glassbox's protections: objects are expanded and the first value of a
// field fixes its type.
const builtinLogs = `{"index_patterns":["logs-*-*"],"priority":100,"data_stream":{},
"template":{"mappings":{"date_detection":false,"properties":{"@timestamp":{"type":"date"},
"data_stream":{"properties":{"type":{"type":"constant_keyword"},"dataset":{"type":"constant_keyword"},"namespace":{"type":"constant_keyword"}}},
"message":{"type":"match_only_text"}}}}}`

func (s *Server) template(w http.ResponseWriter, r *http.Request, kind, name string, body []byte) {
	store := s.templates
	if kind == "_component_template" {
		store = s.components
	}
	switch r.Method {
	case http.MethodGet:
		s.mu.Lock()
		var list []any
		for n, t := range store {
			if glob(name, n) {
				if kind == "_component_template" {
					list = append(list, map[string]any{"name": n, "component_template": storedTemplate(t.raw, false)})
				} else {
					list = append(list, map[string]any{"name": n, "index_template": storedTemplate(t.raw, true)})
				}
			}
		}
		s.mu.Unlock()
		if len(list) == 0 {
			what := "index template"
			if kind == "_component_template" {
				what = "component template"
			}
			writeError(w, 404, "resource_not_found_exception", what+" matching ["+name+"] not found")
			return
		}
		key := "index_templates"
		if kind == "_component_template" {
			key = "component_templates"
		}
		writeJSON(w, 200, map[string]any{key: list})
	case http.MethodPut, http.MethodPost:
		n, err := parseDoc(body)
		if err != nil || n.kind != 'o' {
			writeError(w, 400, "x_content_parse_exception", "request body is required and must be a JSON object")
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		var typ string
		if kind == "_component_template" {
			typ, err = s.validateComponent(n)
		} else {
			typ, err = s.validateIndexTemplate(name, n)
		}
		if err != nil {
			writeError(w, 400, typ, err.Error())
			return
		}
		store[name] = &stored{raw: append(json.RawMessage(nil), body...), node: n}
		writeJSON(w, 200, map[string]any{"acknowledged": true})
	case http.MethodDelete:
		s.mu.Lock()
		_, ok := store[name]
		delete(store, name)
		s.mu.Unlock()
		if !ok {
			writeError(w, 404, "resource_not_found_exception", name+" not found")
			return
		}
		writeJSON(w, 200, map[string]any{"acknowledged": true})
	default:
		writeError(w, 405, "illegal_argument_exception", "method not allowed")
	}
}

func checkKeys(n *node, what string, allowed ...string) error {
	for _, mb := range n.members {
		ok := false
		for _, a := range allowed {
			if a == mb.key {
				ok = true
			}
		}
		if !ok {
			return fmt.Errorf("[%s] unknown field [%s]", what, mb.key)
		}
	}
	return nil
}

// flattenSettings turns {"index":{"a":{"b":1}}} and "a.b" keys into
// "index.a.b" -> "1".
func flattenSettings(n *node) map[string]string {
	out := map[string]string{}
	var walk func(prefix string, n *node)
	walk = func(prefix string, n *node) {
		for _, mb := range n.members {
			k := prefix + mb.key
			if mb.val.kind == 'o' {
				walk(k+".", mb.val)
				continue
			}
			out[k] = mb.val.text()
		}
	}
	if n != nil && n.kind == 'o' {
		walk("", n)
	}
	norm := map[string]string{}
	for k, v := range out {
		if !strings.HasPrefix(k, "index.") {
			k = "index." + k
		}
		norm[k] = v
	}
	return norm
}

var knownSettings = []string{
	"index.number_of_shards", "index.number_of_replicas", "index.codec", "index.refresh_interval",
	"index.mapping.ignore_malformed", "index.mapping.total_fields.limit",
	"index.mapping.total_fields.ignore_dynamic_beyond_limit", "index.mapping.depth.limit",
	"index.mapping.nested_fields.limit", "index.mapping.field_name_length.limit",
	"index.lifecycle.name", "index.lifecycle.rollover_alias", "index.default_pipeline", "index.final_pipeline",
	"index.mode", "index.query.default_field", "index.hidden", "index.priority", "index.auto_expand_replicas",
}

func validateSettings(s map[string]string) error {
	for k, v := range s {
		ok := false
		for _, known := range knownSettings {
			if k == known || (known == "index.query.default_field" && strings.HasPrefix(k, known)) || strings.HasPrefix(k, "index.sort.") || strings.HasPrefix(k, "index.routing.") {
				ok = true
			}
		}
		if !ok {
			return fmt.Errorf("unknown setting [%s] please check that any required plugins are installed, or check the breaking changes documentation for removed settings", k)
		}
		switch k {
		case "index.mapping.ignore_malformed", "index.mapping.total_fields.ignore_dynamic_beyond_limit", "index.hidden":
			if v != "true" && v != "false" {
				return fmt.Errorf("Failed to parse value [%s] as only [true] or [false] are allowed.", v)
			}
		case "index.mapping.total_fields.limit", "index.number_of_shards", "index.number_of_replicas":
			if _, err := strconv.Atoi(v); err != nil {
				return fmt.Errorf("Failed to parse value [%s] for setting [%s]", v, k)
			}
		}
	}
	return nil
}

func (s *Server) validateComponent(n *node) (string, error) {
	if err := checkKeys(n, "component_template", "template", "version", "_meta", "deprecated"); err != nil {
		return "x_content_parse_exception", err
	}
	t := n.get("template")
	if t == nil || t.kind != 'o' {
		return "action_request_validation_exception", fmt.Errorf("Validation Failed: 1: a component template requires a [template];")
	}
	if err := checkKeys(t, "template", "mappings", "settings", "aliases", "lifecycle"); err != nil {
		return "x_content_parse_exception", err
	}
	if err := validateSettings(flattenSettings(t.get("settings"))); err != nil {
		return "illegal_argument_exception", err
	}
	if err := newMapping().applyMappings(t.get("mappings")); err != nil {
		return "mapper_parsing_exception", err
	}
	return "", nil
}

func patternsOf(n *node) []string {
	p := n.get("index_patterns")
	if p == nil {
		return nil
	}
	if p.kind == 'a' {
		var out []string
		for _, e := range p.elems {
			out = append(out, e.text())
		}
		return out
	}
	return []string{p.text()}
}

func (s *Server) validateIndexTemplate(name string, n *node) (string, error) {
	if err := checkKeys(n, "index_template", "index_patterns", "composed_of", "template", "priority", "version", "_meta", "data_stream", "allow_auto_create", "ignore_missing_component_templates", "deprecated"); err != nil {
		return "x_content_parse_exception", err
	}
	if len(patternsOf(n)) == 0 {
		return "action_request_validation_exception", fmt.Errorf("Validation Failed: 1: index patterns are missing;")
	}
	if c := n.get("composed_of"); c != nil {
		var missing []string
		for _, e := range c.elems {
			if s.components[e.text()] == nil {
				missing = append(missing, e.text())
			}
		}
		if len(missing) > 0 {
			return "invalid_index_template_exception", fmt.Errorf("index_template [%s] invalid, cause [index template [%s] specifies component templates %v that do not exist]", name, name, missing)
		}
	}
	if t := n.get("template"); t != nil {
		if err := validateSettings(flattenSettings(t.get("settings"))); err != nil {
			return "illegal_argument_exception", err
		}
	}
	if _, err := s.compose(n); err != nil {
		return "mapper_parsing_exception", fmt.Errorf("composable template [%s] template after composition with component templates is invalid: %v", name, err)
	}
	return "", nil
}

// compose builds the mapping an index created from template n gets.
func (s *Server) compose(n *node) (*mapping, error) {
	m := newMapping()
	settings := map[string]string{}
	apply := func(t *node) error {
		if t == nil {
			return nil
		}
		for k, v := range flattenSettings(t.get("settings")) {
			settings[k] = v
		}
		return m.applyMappings(t.get("mappings"))
	}
	if c := n.get("composed_of"); c != nil {
		for _, e := range c.elems {
			if ct := s.components[e.text()]; ct != nil {
				if err := apply(ct.node.get("template")); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := apply(n.get("template")); err != nil {
		return nil, err
	}
	m.applySettings(settings)
	if n.get("data_stream") != nil {
		m.dataStreamTimestamp = true
		d, ok := m.fields["@timestamp"]
		if !ok {
			m.fields["@timestamp"] = fieldDef{typ: "date"}
		} else if d.typ != "date" && d.typ != "date_nanos" {
			return nil, fmt.Errorf("data stream timestamp field [@timestamp] is of type [%s], but [date,date_nanos] is expected", d.typ)
		} else if d.ignoreMalformed != nil && *d.ignoreMalformed {
			return nil, fmt.Errorf("data stream timestamp field [@timestamp] has disallowed [ignore_malformed] attribute specified")
		}
	}
	return m, nil
}

// createIndex auto-creates name from the best-matching index template;
// s.mu is held.
func (s *Server) createIndex(name string) (*index, error) {
	var best *node
	bestPrio := -1
	for _, t := range s.templates {
		prio := 0
		if p := t.node.get("priority"); p != nil {
			prio, _ = strconv.Atoi(p.text())
		}
		for _, p := range patternsOf(t.node) {
			if glob(p, name) && prio > bestPrio {
				best, bestPrio = t.node, prio
			}
		}
	}
	if best == nil && glob("logs-*-*", name) {
		best, _ = parseDoc([]byte(builtinLogs))
	}
	ix := &index{name: name, backing: name, ids: map[string]*Doc{}}
	if best == nil {
		ix.m = newMapping()
	} else {
		m, err := s.compose(best)
		if err != nil {
			return nil, err
		}
		ix.m = m
		if best.get("data_stream") != nil {
			ix.dataStream = true
			ix.backing = ".ds-" + name + "-" + time.Now().UTC().Format("2006.01.02") + "-000001"
		}
	}
	s.indices[name] = ix
	return ix, nil
}

var minAgeRE = regexp.MustCompile(`^[0-9]+(d|h|m|s|ms|micros|nanos)$`)

func (s *Server) policy(w http.ResponseWriter, r *http.Request, name string, body []byte) {
	switch r.Method {
	case http.MethodGet:
		s.mu.Lock()
		p := s.policies[name]
		s.mu.Unlock()
		if p == nil {
			writeError(w, 404, "resource_not_found_exception", "Lifecycle policy not found: "+name)
			return
		}
		writeJSON(w, 200, map[string]any{name: map[string]any{"version": p.version, "modified_date": time.Now().UTC().Format(time.RFC3339), "policy": storedPolicy(p.raw)}})
	case http.MethodPut:
		n, err := parseDoc(body)
		if err != nil || n.kind != 'o' {
			writeError(w, 400, "x_content_parse_exception", "request body is required")
			return
		}
		if err := validatePolicy(n); err != nil {
			writeError(w, 400, "x_content_parse_exception", err.Error())
			return
		}
		s.mu.Lock()
		version := 1
		if old := s.policies[name]; old != nil {
			version = old.version + 1
		}
		s.policies[name] = &stored{raw: append(json.RawMessage(nil), body...), node: n, version: version}
		s.mu.Unlock()
		writeJSON(w, 200, map[string]any{"acknowledged": true})
	default:
		writeError(w, 405, "illegal_argument_exception", "method not allowed")
	}
}

func validatePolicy(n *node) error {
	if err := checkKeys(n, "put_lifecycle_request", "policy"); err != nil {
		return err
	}
	p := n.get("policy")
	if p == nil || p.kind != 'o' {
		return fmt.Errorf("[put_lifecycle_request] policy is required")
	}
	if err := checkKeys(p, "policy", "phases", "_meta", "deprecated"); err != nil {
		return err
	}
	phases := p.get("phases")
	if phases == nil || phases.kind != 'o' {
		return fmt.Errorf("[policy] phases is required")
	}
	for _, ph := range phases.members {
		switch ph.key {
		case "hot", "warm", "cold", "frozen", "delete":
		default:
			return fmt.Errorf("Timeseries lifecycle does not support phase [%s]", ph.key)
		}
		if err := checkKeys(ph.val, "phase", "min_age", "actions"); err != nil {
			return err
		}
		if ma := ph.val.get("min_age"); ma != nil && !minAgeRE.MatchString(ma.text()) {
			return fmt.Errorf("failed to parse setting [min_age] with value [%s] as a time value: unit is missing or unrecognized", ma.text())
		}
		acts := ph.val.get("actions")
		if acts == nil {
			continue
		}
		for _, a := range acts.members {
			switch a.key {
			case "rollover":
				if len(a.val.members) == 0 {
					return fmt.Errorf("Rollover action requires at least one condition")
				}
				if ph.key != "hot" {
					return fmt.Errorf("invalid action [rollover] defined in phase [%s]", ph.key)
				}
			case "delete", "set_priority", "forcemerge", "shrink", "readonly", "allocate", "migrate", "downsample", "searchable_snapshot", "wait_for_snapshot":
			default:
				return fmt.Errorf("[phase] unknown field [%s]", a.key)
			}
		}
	}
	return nil
}
