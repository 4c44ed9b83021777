package estest

import (
	"fmt"
	"math"
	"net/netip"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// fieldDef is one mapped field.
type fieldDef struct {
	typ             string // "object" for object mappers
	ignoreAbove     int
	ignoreMalformed *bool
}

// dynTemplate is one entry of dynamic_templates.
type dynTemplate struct {
	name        string
	matchTypes  []string
	match       []string
	unmatch     []string
	pathMatch   []string
	pathUnmatch []string
	mapping     fieldDef
}

// mapping is the mapping and mapping-related settings of one index.
type mapping struct {
	subobjects       bool
	dynamic          string // "true", "false", "strict", "runtime"
	dateDetection    bool
	numericDetection bool
	fields           map[string]fieldDef
	dynTemplates     []dynTemplate

	ignoreMalformed     bool
	totalFieldsLimit    int
	ignoreBeyondLimit   bool
	dataStreamTimestamp bool
}

// docError is a per-document failure, reported as an item error.
type docError struct {
	status   int
	typ      string
	reason   string
	causedBy *docError
}

func (e *docError) Error() string { return e.typ + ": " + e.reason }

func parsingError(format string, a ...any) *docError {
	return &docError{status: 400, typ: "document_parsing_exception", reason: fmt.Sprintf(format, a...)}
}

var knownTypes = map[string]bool{
	"keyword": true, "constant_keyword": true, "text": true, "match_only_text": true, "wildcard": true,
	"long": true, "integer": true, "short": true, "byte": true, "unsigned_long": true,
	"double": true, "float": true, "half_float": true, "scaled_float": true,
	"boolean": true, "date": true, "date_nanos": true, "ip": true, "object": true, "flattened": true,
	"alias": true,
}

// supportsIgnoreMalformed lists the types ignore_malformed applies to.
var supportsIgnoreMalformed = map[string]bool{
	"long": true, "integer": true, "short": true, "byte": true, "unsigned_long": true,
	"double": true, "float": true, "half_float": true, "scaled_float": true,
	"date": true, "date_nanos": true, "ip": true,
}

func newMapping() *mapping {
	return &mapping{subobjects: true, dynamic: "true", dateDetection: true, fields: map[string]fieldDef{}, totalFieldsLimit: 1000}
}

// applyMappings merges a "mappings" object into m, the way composed
// templates merge: later definitions override earlier ones.
func (m *mapping) applyMappings(n *node) error {
	if n == nil {
		return nil
	}
	if n.kind != 'o' {
		return fmt.Errorf("mappings must be an object")
	}
	if v := n.get("subobjects"); v != nil {
		switch v.text() {
		case "true":
			m.subobjects = true
		case "false":
			m.subobjects = false
		default:
			return fmt.Errorf("Failed to parse mapping: unsupported subobjects value [%s]", v.text())
		}
	}
	for _, mb := range n.members {
		switch mb.key {
		case "subobjects", "properties", "dynamic_templates", "_meta", "_source", "_data_stream_timestamp", "_routing":
		case "dynamic":
			switch t := mb.val.text(); t {
			case "true", "false", "strict", "runtime":
				m.dynamic = t
			default:
				return fmt.Errorf("Failed to parse mapping: unknown dynamic value [%s]", t)
			}
		case "date_detection":
			m.dateDetection = mb.val.text() == "true"
		case "numeric_detection":
			m.numericDetection = mb.val.text() == "true"
		default:
			return fmt.Errorf("Root mapping definition has unsupported parameters:  [%s : %s]", mb.key, mb.val.preview())
		}
	}
	if dt := n.get("dynamic_templates"); dt != nil {
		if dt.kind != 'a' {
			return fmt.Errorf("Failed to parse mapping: dynamic_templates must be an array")
		}
		for _, e := range dt.elems {
			if e.kind != 'o' || len(e.members) != 1 {
				return fmt.Errorf("Failed to parse mapping: a dynamic template must be an object with one named entry")
			}
			t, err := parseDynTemplate(e.members[0].key, e.members[0].val)
			if err != nil {
				return err
			}
			replaced := false
			for i := range m.dynTemplates {
				if m.dynTemplates[i].name == t.name {
					m.dynTemplates[i], replaced = t, true
				}
			}
			if !replaced {
				m.dynTemplates = append(m.dynTemplates, t)
			}
		}
	}
	return m.applyProperties("", n.get("properties"))
}

func parseDynTemplate(name string, n *node) (dynTemplate, error) {
	t := dynTemplate{name: name}
	strs := func(v *node) []string {
		if v == nil {
			return nil
		}
		if v.kind == 'a' {
			var out []string
			for _, e := range v.elems {
				out = append(out, e.text())
			}
			return out
		}
		return []string{v.text()}
	}
	t.matchTypes = strs(n.get("match_mapping_type"))
	t.match = strs(n.get("match"))
	t.unmatch = strs(n.get("unmatch"))
	t.pathMatch = strs(n.get("path_match"))
	t.pathUnmatch = strs(n.get("path_unmatch"))
	for _, mt := range t.matchTypes {
		switch mt {
		case "*", "string", "long", "double", "boolean", "object", "date", "binary":
		default:
			return t, fmt.Errorf("Failed to parse mapping: No field type matched on [%s], possible values are [object, string, long, double, boolean, date, binary]", mt)
		}
	}
	mn := n.get("mapping")
	if mn == nil {
		return t, fmt.Errorf("Failed to parse mapping: template [%s] must have a mapping", name)
	}
	def, err := parseFieldDef(name, mn, true)
	if err != nil {
		return t, err
	}
	t.mapping = def
	return t, nil
}

func parseFieldDef(name string, n *node, dynamic bool) (fieldDef, error) {
	var d fieldDef
	if n.kind != 'o' {
		return d, fmt.Errorf("Expected map for property [fields] on field [%s] but got a class java.lang.String", name)
	}
	d.typ = "object"
	if t := n.get("type"); t != nil {
		d.typ = t.text()
	}
	if !knownTypes[d.typ] && !(dynamic && strings.Contains(d.typ, "{dynamic_type}")) {
		return d, fmt.Errorf("No handler for type [%s] declared on field [%s]", d.typ, name)
	}
	if v := n.get("ignore_above"); v != nil {
		i, err := strconv.Atoi(v.text())
		if err != nil {
			return d, fmt.Errorf("failed to parse ignore_above of [%s]", name)
		}
		d.ignoreAbove = i
	}
	if v := n.get("ignore_malformed"); v != nil {
		if !supportsIgnoreMalformed[d.typ] {
			return d, fmt.Errorf("unknown parameter [ignore_malformed] on mapper [%s] of type [%s]", name, d.typ)
		}
		b := v.text() == "true"
		d.ignoreMalformed = &b
	}
	return d, nil
}

func (m *mapping) applyProperties(prefix string, props *node) error {
	if props == nil {
		return nil
	}
	if props.kind != 'o' {
		return fmt.Errorf("properties must be an object")
	}
	for _, mb := range props.members {
		name := mb.key
		if name == "" || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
			return fmt.Errorf("field name cannot be empty or have an empty segment: [%s]", name)
		}
		full := prefix + name
		def, err := parseFieldDef(full, mb.val, false)
		if err != nil {
			return err
		}
		if m.subobjects {
			// Dotted names in mappings are expanded into objects.
			segs := strings.Split(full, ".")
			for i := 1; i < len(segs); i++ {
				p := strings.Join(segs[:i], ".")
				if old, ok := m.fields[p]; ok && old.typ != "object" {
					return fmt.Errorf("can't merge a non object mapping [%s] with an object mapping", p)
				}
				m.fields[p] = fieldDef{typ: "object"}
			}
		}
		if def.typ == "object" {
			if !m.subobjects {
				// Auto-flattened: only the leaves are mapped.
				if err := m.applyProperties(full+".", mb.val.get("properties")); err != nil {
					return err
				}
				continue
			}
			if old, ok := m.fields[full]; ok && old.typ != "object" {
				return fmt.Errorf("can't merge a non object mapping [%s] with an object mapping", full)
			}
			m.fields[full] = def
			if err := m.applyProperties(full+".", mb.val.get("properties")); err != nil {
				return err
			}
			continue
		}
		if old, ok := m.fields[full]; ok && old.typ == "object" && m.subobjects {
			return fmt.Errorf("can't merge a non object mapping [%s] with an object mapping", full)
		}
		m.fields[full] = def
	}
	return nil
}

// applySettings reads the mapping-related index settings from a flattened
// settings map.
func (m *mapping) applySettings(s map[string]string) {
	if v, ok := s["index.mapping.ignore_malformed"]; ok {
		m.ignoreMalformed = v == "true"
	}
	if v, ok := s["index.mapping.total_fields.limit"]; ok {
		if i, err := strconv.Atoi(v); err == nil {
			m.totalFieldsLimit = i
		}
	}
	if v, ok := s["index.mapping.total_fields.ignore_dynamic_beyond_limit"]; ok {
		m.ignoreBeyondLimit = v == "true"
	}
}

// parsed is the outcome of indexing one document.
type parsed struct {
	newFields map[string]fieldDef
	indexed   map[string][]string // field -> terms
	ignored   []string
}

// docParser parses one document against a mapping without changing it;
// the new fields are committed only when the whole document is accepted.
type docParser struct {
	m   *mapping
	id  string
	out parsed
}

func (m *mapping) lookup(p *docParser, full string) (fieldDef, bool) {
	if d, ok := p.out.newFields[full]; ok {
		return d, true
	}
	d, ok := m.fields[full]
	return d, ok
}

// parseDocument checks src against the mapping as Elasticsearch's document
// parser does and returns the new dynamic fields and the indexed terms.
func (m *mapping) parseDocument(id string, src *node) (*parsed, *docError) {
	if src.kind != 'o' {
		return nil, parsingError("failed to parse, document is empty")
	}
	p := &docParser{m: m, id: id, out: parsed{newFields: map[string]fieldDef{}, indexed: map[string][]string{}}}
	if err := p.walkObject("", src, m.dynamic); err != nil {
		return nil, err
	}
	if m.dataStreamTimestamp {
		ts := p.out.indexed["@timestamp"]
		switch {
		case len(ts) == 0:
			return nil, parsingError("failed to parse: data stream timestamp field [@timestamp] is missing")
		case len(ts) > 1:
			return nil, parsingError("failed to parse: data stream timestamp field [@timestamp] encountered multiple values")
		}
	}
	return &p.out, nil
}

func (p *docParser) walkObject(prefix string, obj *node, dynamic string) *docError {
	for _, mb := range obj.members {
		k := mb.key
		if err := checkFieldName(prefix, k); err != nil {
			return err
		}
		full := prefix + k
		if metadataFields[full] {
			return parsingError("Field [%s] is a metadata field and cannot be added inside a document. Use the index API request parameters.", full)
		}
		if p.m.subobjects && strings.Contains(k, ".") {
			segs := strings.Split(full, ".")
			skip := false
			for i := len(strings.Split(prefix, ".")); i < len(segs); i++ {
				obj := strings.Join(segs[:i], ".")
				if obj == "" {
					continue
				}
				def, ok := p.m.lookup(p, obj)
				if ok && def.typ != "object" {
					return parsingError("Could not dynamically add mapping for field [%s]. Existing mapping for [%s] must be of type object but found [%s].", full, obj, def.typ)
				}
				if !ok {
					switch dynamic {
					case "strict":
						return &docError{status: 400, typ: "strict_dynamic_mapping_exception", reason: fmt.Sprintf("[%s] mapping set to strict, dynamic introduction of [%s] within [%s] is not allowed", obj, segs[i-1], parentOf(obj))}
					case "false":
						skip = true
					default:
						if err := p.addField(obj, fieldDef{typ: "object"}); err != nil {
							return err
						}
					}
				}
				if skip {
					break
				}
			}
			if skip {
				continue
			}
		}
		if err := p.parseField(full, k, mb.val, dynamic); err != nil {
			return err
		}
	}
	return nil
}

func parentOf(p string) string {
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i]
	}
	return "_doc"
}

func (p *docParser) addField(full string, def fieldDef) *docError {
	total := len(p.m.fields) + len(p.out.newFields)
	if total+1 > p.m.totalFieldsLimit {
		if p.m.ignoreBeyondLimit {
			return errIgnoreField
		}
		return &docError{status: 400, typ: "document_parsing_exception",
			reason:   fmt.Sprintf("failed to parse: Limit of total fields [%d] has been exceeded while adding new fields [1]", p.m.totalFieldsLimit),
			causedBy: &docError{typ: "illegal_argument_exception", reason: fmt.Sprintf("Limit of total fields [%d] has been exceeded while adding new fields [1]", p.m.totalFieldsLimit)}}
	}
	p.out.newFields[full] = def
	return nil
}

// errIgnoreField marks a field left unmapped by ignore_dynamic_beyond_limit.
var errIgnoreField = &docError{typ: "ignored"}

func jsonType(n *node) string {
	switch n.kind {
	case 's':
		return "string"
	case 'b':
		return "boolean"
	case 'o':
		return "object"
	case 'n':
		if strings.ContainsAny(n.str, ".eE") {
			return "double"
		}
		return "long"
	}
	return ""
}

func (p *docParser) parseField(full, name string, v *node, dynamic string) *docError {
	switch v.kind {
	case 'z':
		return nil
	case 'a':
		for _, e := range v.elems {
			if err := p.parseField(full, name, e, dynamic); err != nil {
				return err
			}
		}
		return nil
	}
	def, ok := p.m.lookup(p, full)
	if v.kind == 'o' {
		if ok && def.typ == "flattened" {
			p.indexFlattened(full, v)
			return nil
		}
		if ok && def.typ != "object" {
			if !p.m.subobjects {
				// A field mapper that cannot parse objects: under
				// subobjects:false the object is flattened into dotted
				// leaves instead (DocumentParser.shouldFlattenObject).
				return p.walkObject(full+".", v, dynamic)
			}
			return &docError{status: 400, typ: "document_parsing_exception",
				reason: fmt.Sprintf("failed to parse field [%s] of type [%s] in document with id '%s'. Preview of field's value: '%s'", full, def.typ, p.id, v.preview())}
		}
		if !p.m.subobjects {
			// Auto-flattening: objects add no mappers of their own, except
			// that a dynamic template matching "object" with a leaf type
			// hands the whole object to that field mapper.
			if !ok && dynamic != "false" && dynamic != "strict" {
				if t, found := p.matchTemplate(full, name, "object"); found && t.typ != "object" {
					if t.typ == "flattened" {
						if err := p.addField(full, t); err != nil && err != errIgnoreField {
							return err
						}
						p.indexFlattened(full, v)
						return nil
					}
					return &docError{status: 400, typ: "document_parsing_exception",
						reason: fmt.Sprintf("failed to parse field [%s] of type [%s] in document with id '%s'. Preview of field's value: '%s'", full, t.typ, p.id, v.preview())}
				}
			}
			return p.walkObject(full+".", v, dynamic)
		}
		if !ok {
			switch dynamic {
			case "strict":
				return &docError{status: 400, typ: "strict_dynamic_mapping_exception", reason: fmt.Sprintf("[%s] mapping set to strict, dynamic introduction of [%s] within [%s] is not allowed", parentOf(full), name, parentOf(full))}
			case "false":
				return nil
			}
			if t, found := p.matchTemplate(full, name, "object"); found && t.typ != "object" {
				if err := p.addField(full, t); err != nil {
					if err == errIgnoreField {
						p.out.ignored = append(p.out.ignored, full)
						return nil
					}
					return err
				}
				if t.typ == "flattened" {
					p.indexFlattened(full, v)
					return nil
				}
				return p.parseField(full, name, v, dynamic)
			}
			if err := p.addField(full, fieldDef{typ: "object"}); err != nil {
				if err == errIgnoreField {
					p.out.ignored = append(p.out.ignored, full)
					return nil
				}
				return err
			}
		}
		return p.walkObject(full+".", v, dynamic)
	}
	// A scalar value.
	if ok && def.typ == "object" {
		return parsingError("object mapping for [%s] tried to parse field [%s] as object, but found a concrete value", full, name)
	}
	if !ok {
		switch dynamic {
		case "strict":
			return &docError{status: 400, typ: "strict_dynamic_mapping_exception", reason: fmt.Sprintf("[%s] mapping set to strict, dynamic introduction of [%s] within [%s] is not allowed", parentOf(full), name, parentOf(full))}
		case "false":
			return nil
		}
		def = p.dynamicDef(full, name, v)
		if err := p.addField(full, def); err != nil {
			if err == errIgnoreField {
				p.out.ignored = append(p.out.ignored, full)
				return nil
			}
			return err
		}
	}
	term, err := convert(def.typ, v)
	if err != nil {
		im := p.m.ignoreMalformed
		if def.ignoreMalformed != nil {
			im = *def.ignoreMalformed
		}
		if im && supportsIgnoreMalformed[def.typ] && !(full == "@timestamp" && p.m.dataStreamTimestamp) {
			p.out.ignored = append(p.out.ignored, full)
			return nil
		}
		return &docError{status: 400, typ: "document_parsing_exception",
			reason:   fmt.Sprintf("failed to parse field [%s] of type [%s] in document with id '%s'. Preview of field's value: '%s'", full, def.typ, p.id, v.preview()),
			causedBy: &docError{typ: "illegal_argument_exception", reason: err.Error()}}
	}
	if def.ignoreAbove > 0 && len(term) > def.ignoreAbove {
		p.out.ignored = append(p.out.ignored, full)
		return nil
	}
	switch def.typ {
	case "text", "match_only_text":
		p.out.indexed[full] = append(p.out.indexed[full], tokenize(term)...)
	default:
		p.out.indexed[full] = append(p.out.indexed[full], term)
	}
	return nil
}

func (p *docParser) indexFlattened(full string, v *node) {
	var walk func(prefix string, n *node)
	walk = func(prefix string, n *node) {
		switch n.kind {
		case 'o':
			for _, mb := range n.members {
				walk(prefix+"."+mb.key, mb.val)
			}
		case 'a':
			for _, e := range n.elems {
				walk(prefix, e)
			}
		case 'z':
		default:
			p.out.indexed[prefix] = append(p.out.indexed[prefix], n.text())
			p.out.indexed[full] = append(p.out.indexed[full], n.text())
		}
	}
	walk(full, v)
}

func (p *docParser) matchTemplate(full, name, mtype string) (fieldDef, bool) {
	for _, t := range p.m.dynTemplates {
		if len(t.matchTypes) > 0 && !containsMatch(t.matchTypes, mtype) {
			continue
		}
		if len(t.match) > 0 && !globAny(t.match, name) {
			continue
		}
		if len(t.unmatch) > 0 && globAny(t.unmatch, name) {
			continue
		}
		if len(t.pathMatch) > 0 && !globAny(t.pathMatch, full) {
			continue
		}
		if len(t.pathUnmatch) > 0 && globAny(t.pathUnmatch, full) {
			continue
		}
		d := t.mapping
		d.typ = strings.ReplaceAll(d.typ, "{dynamic_type}", defaultDynamicType(mtype))
		return d, true
	}
	return fieldDef{}, false
}

func containsMatch(types []string, t string) bool {
	for _, x := range types {
		if x == "*" || x == t {
			return true
		}
	}
	return false
}

func globAny(patterns []string, s string) bool {
	for _, p := range patterns {
		if glob(p, s) {
			return true
		}
	}
	return false
}

// glob matches Elasticsearch simple patterns: '*' matches any run.
func glob(pattern, s string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == s
	}
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for i := 1; i < len(parts)-1; i++ {
		j := strings.Index(s, parts[i])
		if j < 0 {
			return false
		}
		s = s[j+len(parts[i]):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

func defaultDynamicType(mtype string) string {
	switch mtype {
	case "string":
		return "keyword"
	case "double":
		return "float"
	}
	return mtype
}

// dynamicDef picks the mapping of a new scalar field: detection, then the
// dynamic templates, then the defaults.
func (p *docParser) dynamicDef(full, name string, v *node) fieldDef {
	mtype := jsonType(v)
	if mtype == "string" {
		if p.m.dateDetection && looksLikeDate(v.str) {
			mtype = "date"
		} else if p.m.numericDetection {
			if _, err := strconv.ParseInt(v.str, 10, 64); err == nil {
				mtype = "long"
			} else if _, err := strconv.ParseFloat(v.str, 64); err == nil {
				mtype = "double"
			}
		}
	}
	if d, ok := p.matchTemplate(full, name, mtype); ok {
		return d
	}
	// Elasticsearch maps strings as text with a keyword sub-field; the test
	// server keeps the keyword part, which is what term queries use.
	return fieldDef{typ: defaultDynamicType(mtype), ignoreAbove: map[bool]int{true: 256}[mtype == "string"]}
}

func looksLikeDate(s string) bool {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	_, err := parseDate(s)
	return err == nil
}

func parseDate(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("failed to parse date field [%s] with format [strict_date_optional_time||epoch_millis]", s)
}

// convert checks that v fits a field of type typ and returns the term that
// is indexed, as Elasticsearch's field mappers accept and coerce values.
func convert(typ string, v *node) (string, error) {
	switch typ {
	case "keyword", "constant_keyword", "text", "match_only_text", "wildcard", "flattened":
		return v.text(), nil
	case "long", "integer", "short", "byte", "unsigned_long":
		if v.kind == 'b' {
			return "", fmt.Errorf("Current token (VALUE_%s) not numeric, can not use numeric value accessors", strings.ToUpper(v.text()))
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v.text()), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return "", fmt.Errorf("For input string: %q", v.text())
		}
		lim := map[string]float64{"long": math.MaxInt64, "integer": math.MaxInt32, "short": math.MaxInt16, "byte": math.MaxInt8, "unsigned_long": math.MaxUint64}[typ]
		if f > lim || (typ != "unsigned_long" && f < -lim-1) || (typ == "unsigned_long" && f < 0) {
			return "", fmt.Errorf("Value [%s] is out of range for a %s", v.text(), typ)
		}
		return strconv.FormatInt(int64(f), 10), nil
	case "double", "float", "half_float", "scaled_float":
		if v.kind == 'b' {
			return "", fmt.Errorf("Current token (VALUE_%s) not numeric, can not use numeric value accessors", strings.ToUpper(v.text()))
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v.text()), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return "", fmt.Errorf("For input string: %q", v.text())
		}
		return strconv.FormatFloat(f, 'g', -1, 64), nil
	case "boolean":
		switch v.text() {
		case "true", "false":
			return v.text(), nil
		case "":
			return "false", nil
		}
		return "", fmt.Errorf("Failed to parse value [%s] as only [true] or [false] are allowed.", v.preview())
	case "date", "date_nanos":
		if v.kind == 'n' {
			ms, err := strconv.ParseInt(v.str, 10, 64)
			if err != nil {
				return "", fmt.Errorf("failed to parse date field [%s]", v.str)
			}
			t := time.UnixMilli(ms)
			if typ == "date_nanos" {
				if err := nanosecondRange(t); err != nil {
					return "", err
				}
			}
			return t.UTC().Format(time.RFC3339Nano), nil
		}
		if v.kind != 's' {
			return "", fmt.Errorf("failed to parse date field [%s]", v.preview())
		}
		t, err := parseDate(v.str)
		if err != nil {
			return "", err
		}
		if typ == "date_nanos" {
			if err := nanosecondRange(t); err != nil {
				return "", err
			}
		}
		return t.UTC().Format(time.RFC3339Nano), nil
	case "ip":
		a, err := netip.ParseAddr(v.text())
		if err != nil {
			return "", fmt.Errorf("'%s' is not an IP string literal.", v.text())
		}
		return a.String(), nil
	}
	return v.text(), nil
}

func tokenize(s string) []string {
	f := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127)
	})
	return f
}

// commit adds the new fields of an accepted document.
func (m *mapping) commit(p *parsed) {
	for k, d := range p.newFields {
		m.fields[k] = d
	}
}

// describe renders the mapping as Elasticsearch's GET _mapping shape
// (flattened property names).
func (m *mapping) describe() map[string]any {
	props := map[string]any{}
	keys := make([]string, 0, len(m.fields))
	for k := range m.fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		d := m.fields[k]
		props[k] = map[string]any{"type": d.typ}
	}
	return map[string]any{"subobjects": m.subobjects, "properties": props}
}

// matchIndexPattern matches an index expression (comma list, wildcards).
func matchIndexPattern(expr, name string) bool {
	for _, p := range strings.Split(expr, ",") {
		p = strings.TrimSpace(p)
		if p == "_all" || p == "*" {
			if !strings.HasPrefix(name, ".") {
				return true
			}
			continue
		}
		if ok, _ := path.Match(p, name); ok || glob(p, name) {
			return true
		}
	}
	return false
}
