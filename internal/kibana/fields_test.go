package kibana_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/internal/kibana"
	"github.com/glassbox-obs/glassbox/internal/slo"
	"github.com/glassbox-obs/glassbox/internal/testutil"
	gblog "github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/middleware"
)

// mapping is what the shipped index templates map: explicit fields by
// name, and the type the dynamic templates give an unlisted leaf per JSON
// type.
type mapping struct {
	explicit map[string]string
	dynamic  map[string]string // "string" -> "keyword", ...
	patterns []string          // the index templates' index_patterns
}

// templateMapping walks the mappings of elasticsearch.Templates.
func templateMapping(t *testing.T) mapping {
	t.Helper()
	m := mapping{explicit: map[string]string{}, dynamic: map[string]string{}}
	for _, tpl := range elasticsearch.Templates(0) {
		var body struct {
			IndexPatterns []string `json:"index_patterns"`
			Template      struct {
				Mappings struct {
					Properties       map[string]json.RawMessage   `json:"properties"`
					DynamicTemplates []map[string]json.RawMessage `json:"dynamic_templates"`
				} `json:"mappings"`
			} `json:"template"`
		}
		if err := json.Unmarshal(tpl.Body, &body); err != nil {
			t.Fatalf("%s: %v", tpl.Path, err)
		}
		m.patterns = append(m.patterns, body.IndexPatterns...)
		walkProperties(t, "", body.Template.Mappings.Properties, m.explicit)
		for _, dt := range body.Template.Mappings.DynamicTemplates {
			for _, raw := range dt {
				var d struct {
					MatchMappingType string `json:"match_mapping_type"`
					Match            string `json:"match"`
					PathMatch        string `json:"path_match"`
					Mapping          struct {
						Type string `json:"type"`
					} `json:"mapping"`
				}
				if err := json.Unmarshal(raw, &d); err != nil {
					t.Fatal(err)
				}
				if d.Match == "" && d.PathMatch == "" && d.MatchMappingType != "" {
					m.dynamic[d.MatchMappingType] = d.Mapping.Type
				}
			}
		}
	}
	if len(m.explicit) == 0 {
		t.Fatal("the templates map no field")
	}
	return m
}

func walkProperties(t *testing.T, prefix string, props map[string]json.RawMessage, out map[string]string) {
	for name, raw := range props {
		var f struct {
			Type       string                     `json:"type"`
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if err := json.Unmarshal(raw, &f); err != nil {
			t.Fatal(err)
		}
		if f.Properties != nil {
			walkProperties(t, prefix+name+".", f.Properties, out)
			continue
		}
		out[prefix+name] = f.Type
	}
}

// use is one field a saved object reads, and what it needs of the field.
type use struct {
	field string
	need  string // "date", "number", "aggregatable", "any"
	where string
}

var (
	kqlQuoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	kqlField  = regexp.MustCompile(`([A-Za-z_@][A-Za-z0-9_.@]*)\s*(:|>=|<=|>|<)`)
)

// kqlUses returns the fields a KQL query names.
func kqlUses(q, where string) []use {
	var out []use
	for _, m := range kqlField.FindAllStringSubmatch(kqlQuoted.ReplaceAllString(q, `""`), -1) {
		need := "any"
		if m[2] != ":" {
			need = "number"
		}
		out = append(out, use{m[1], need, where + " query " + q})
	}
	return out
}

// usedFields reads, from the saved objects themselves, every field they
// use.
func usedFields(t *testing.T) []use {
	var out []use
	for _, o := range kibana.Objects() {
		where := o.Type + " " + o.ID
		switch o.Type {
		case kibana.TypeDataView:
			out = append(out, use{o.Attributes["timeFieldName"].(string), "date", where})
		case kibana.TypeSearch:
			for _, c := range o.Attributes["columns"].([]any) {
				out = append(out, use{c.(string), "any", where + " column"})
			}
			for _, s := range o.Attributes["sort"].([]any) {
				out = append(out, use{s.([]any)[0].(string), "aggregatable", where + " sort"})
			}
			var src struct{ Query struct{ Query string } }
			mustUnmarshal(t, o.Attributes["kibanaSavedObjectMeta"].(map[string]any)["searchSourceJSON"], &src)
			out = append(out, kqlUses(src.Query.Query, where)...)
		case kibana.TypeLens:
			for _, cols := range lensLayers(t, o) {
				for id, c := range cols {
					def := c.(map[string]any)
					if f, _ := def["filter"].(map[string]any); f != nil {
						out = append(out, kqlUses(f["query"].(string), where+" column "+id)...)
					}
					field, _ := def["sourceField"].(string)
					if field == "___records___" {
						continue
					}
					need := map[string]string{
						"date_histogram": "date", "terms": "aggregatable", "percentile": "number",
						"average": "number", "median": "number", "sum": "number", "max": "number", "min": "number",
					}[def["operationType"].(string)]
					if need == "" {
						t.Fatalf("%s column %s: operation %v is not covered by this test", where, id, def["operationType"])
					}
					out = append(out, use{field, need, where + " column " + id})
				}
			}
		}
	}
	return out
}

func satisfies(typ, need string) bool {
	numeric := []string{"long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float", "unsigned_long"}
	switch need {
	case "date":
		return typ == "date" || typ == "date_nanos"
	case "number":
		return slices.Contains(numeric, typ)
	case "aggregatable":
		return typ == "keyword" || typ == "constant_keyword" || typ == "ip" || typ == "boolean" ||
			typ == "date" || typ == "date_nanos" || slices.Contains(numeric, typ)
	}
	return typ != ""
}

// accessLog returns the access-log record the real middleware writes for a
// routed request that fails with 500.
func accessLog(t *testing.T) map[string]any {
	t.Helper()
	var buf testutil.Buffer
	logger := slog.New(gblog.NewHandler(gblog.WithWriter(&buf)))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	})
	h := middleware.HTTP(middleware.WithLogger(logger))(mux)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/orders/42", nil))
	for _, rec := range testutil.JSONLines(t, buf.String()) {
		if rec["http.response.status_code"] != nil {
			return rec
		}
	}
	t.Fatalf("no access-log record in %s", buf.String())
	return nil
}

// TestFieldsExistInTemplates checks every field the saved search, the Lens
// panels, the data views and the alert queries use against the shipped
// index templates: mapped explicitly with a type that serves the use, or,
// for a field the templates leave to their dynamic templates, written by
// the real middleware with a JSON type the dynamic templates map to such
// a type. A misspelt field fails either way.
func TestFieldsExistInTemplates(t *testing.T) {
	m := templateMapping(t)
	doc := accessLog(t)
	uses := usedFields(t)
	uses = append(uses, kqlUses(slo.FailedKQL(), "slo.FailedKQL")...)
	uses = append(uses, kqlUses(slo.SlowKQL(time.Second), "slo.SlowKQL")...)
	uses = append(uses, kqlUses(slo.RequestsKQL, "slo.RequestsKQL")...)
	uses = append(uses, alertQueryUses(t)...)
	var dynamic []string
	for _, u := range uses {
		if typ, ok := m.explicit[u.field]; ok {
			if !satisfies(typ, u.need) {
				t.Errorf("%s: field %s is mapped as %s, which does not serve a %s use", u.where, u.field, typ, u.need)
			}
			continue
		}
		v, written := doc[u.field]
		if !written {
			t.Errorf("%s: field %s is neither in the templates nor in the access log the middleware writes", u.where, u.field)
			continue
		}
		jt := map[bool]string{true: "string", false: "long"}[isString(v)]
		if typ := m.dynamic[jt]; !satisfies(typ, u.need) {
			t.Errorf("%s: field %s is not in the templates; its dynamic mapping (%s) does not serve a %s use", u.where, u.field, typ, u.need)
		}
		if !slices.Contains(dynamic, u.field) {
			dynamic = append(dynamic, u.field)
		}
	}
	sort.Strings(dynamic)
	if len(dynamic) > 0 {
		t.Logf("fields mapped by the dynamic templates only: %v", dynamic)
	}
	if !slices.Contains(m.patterns, kibana.LogsIndexPattern) || !slices.Contains(m.patterns, kibana.TracesIndexPattern) {
		t.Errorf("the templates' index patterns %v do not include the data views' %s and %s",
			m.patterns, kibana.LogsIndexPattern, kibana.TracesIndexPattern)
	}
	if doc["message"] != strings.TrimSuffix(strings.TrimPrefix(slo.RequestsKQL, `message:"`), `"`) {
		t.Errorf("the access log's message is %q; slo.RequestsKQL (%s) would select nothing", doc["message"], slo.RequestsKQL)
	}
}

func isString(v any) bool { _, ok := v.(string); return ok }

// alertQueryUses returns the fields of the alert rules' kibana_query
// annotations.
func alertQueryUses(t *testing.T) []use {
	t.Helper()
	var slos []slo.SLO
	for _, s := range []string{"availability=99.9", "latency=250ms@99"} {
		o, err := slo.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		slos = append(slos, o)
	}
	f, err := slo.Rules(slos, slo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out []use
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if q := r.Annotations["kibana_query"]; q != "" {
				out = append(out, kqlUses(q, "alert "+r.Alert)...)
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no alert names a kibana_query")
	}
	return out
}
