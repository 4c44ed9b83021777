package kibana_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/glassbox-obs/glassbox/internal/kibana"
	"github.com/glassbox-obs/glassbox/internal/kibanatest"
)

func ndjson(t *testing.T) []byte {
	t.Helper()
	b, err := kibana.NDJSON(kibana.Objects())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// lines decodes the NDJSON file line by line, as Kibana's import does.
func lines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<24)
	for n := 1; sc.Scan(); n++ {
		var o map[string]any
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			t.Fatalf("line %d is not one JSON object: %v\n%s", n, err, sc.Bytes())
		}
		out = append(out, o)
	}
	if len(b) == 0 || b[len(b)-1] != '\n' {
		t.Error("the file does not end with a newline")
	}
	return out
}

func TestNDJSONFormat(t *testing.T) {
	b := ndjson(t)
	objs := lines(t, b)
	if len(objs) != len(kibana.Objects()) {
		t.Fatalf("got %d lines, want %d", len(objs), len(kibana.Objects()))
	}
	known := kibanatest.KnownTypes()
	types := map[string]int{}
	for _, o := range objs {
		for _, k := range []string{"type", "id", "coreMigrationVersion", "typeMigrationVersion"} {
			if s, _ := o[k].(string); s == "" {
				t.Errorf("%v %v: %s is not a non-empty string", o["type"], o["id"], k)
			}
		}
		if _, ok := o["attributes"].(map[string]any); !ok {
			t.Errorf("%v %v: attributes is not an object", o["type"], o["id"])
		}
		if _, ok := o["references"].([]any); !ok {
			t.Errorf("%v %v: references is not an array", o["type"], o["id"])
		}
		typ, _ := o["type"].(string)
		if _, ok := known[typ]; !ok {
			t.Errorf("%v: type %q is not one Kibana %s knows", o["id"], typ, kibanatest.Version)
		}
		types[typ]++
	}
	want := map[string]int{"index-pattern": 2, "search": 1, "lens": 4, "dashboard": 1}
	if !reflect.DeepEqual(types, want) {
		t.Errorf("got objects %v, want %v", types, want)
	}
	if again := ndjson(t); !bytes.Equal(again, b) {
		t.Error("two generations differ: IDs and content must be deterministic")
	}
}

// TestReferencesResolve checks that every reference names an object of the
// file, of the named type, that comes before the object that references
// it, and that every name the attributes use is a reference.
func TestReferencesResolve(t *testing.T) {
	seen := map[string]bool{}
	for _, o := range kibana.Objects() {
		names := map[string]bool{}
		for _, r := range o.References {
			if !seen[r.Type+"/"+r.ID] {
				t.Errorf("%s %s: reference %s -> %s/%s names no earlier object of the file", o.Type, o.ID, r.Name, r.Type, r.ID)
			}
			if names[r.Name] {
				t.Errorf("%s %s: reference name %s repeated", o.Type, o.ID, r.Name)
			}
			names[r.Name] = true
		}
		for _, n := range referenceNames(t, o) {
			if !names[n] {
				t.Errorf("%s %s: the attributes use reference %q, which the object lacks", o.Type, o.ID, n)
			}
		}
		seen[o.Type+"/"+o.ID] = true
	}
}

// referenceNames returns the reference names the attributes use.
func referenceNames(t *testing.T, o kibana.SavedObject) []string {
	t.Helper()
	switch o.Type {
	case kibana.TypeSearch:
		var src struct{ IndexRefName string }
		meta := o.Attributes["kibanaSavedObjectMeta"].(map[string]any)
		mustUnmarshal(t, meta["searchSourceJSON"], &src)
		return []string{src.IndexRefName}
	case kibana.TypeLens:
		var out []string
		for layer := range lensLayers(t, o) {
			out = append(out, "indexpattern-datasource-layer-"+layer)
		}
		return out
	case kibana.TypeDashboard:
		var panels []struct {
			PanelIndex, PanelRefName string
		}
		mustUnmarshal(t, o.Attributes["panelsJSON"], &panels)
		var out []string
		for _, p := range panels {
			out = append(out, p.PanelIndex+":"+p.PanelRefName)
		}
		return out
	}
	return nil
}

func mustUnmarshal(t *testing.T, s any, into any) {
	t.Helper()
	str, ok := s.(string)
	if !ok {
		t.Fatalf("got %T, want JSON text", s)
	}
	if err := json.Unmarshal([]byte(str), into); err != nil {
		t.Fatalf("%v: %s", err, str)
	}
}

// lensLayers returns a Lens object's formBased layers.
func lensLayers(t *testing.T, o kibana.SavedObject) map[string]map[string]any {
	t.Helper()
	b, _ := json.Marshal(o.Attributes)
	var a struct {
		State struct {
			DatasourceStates struct {
				FormBased struct {
					Layers map[string]struct {
						Columns map[string]map[string]any
					}
				}
			}
		}
	}
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for id, l := range a.State.DatasourceStates.FormBased.Layers {
		cols := map[string]any{}
		for c, def := range l.Columns {
			cols[c] = def
		}
		out[id] = cols
	}
	if len(out) == 0 {
		t.Fatalf("lens %s has no formBased layer", o.ID)
	}
	return out
}

func TestObjectVersions(t *testing.T) {
	known := kibanatest.KnownTypes()
	for _, o := range kibana.Objects() {
		if o.CoreMigrationVersion != kibana.CoreMigrationVersion {
			t.Errorf("%s %s: coreMigrationVersion %s", o.Type, o.ID, o.CoreMigrationVersion)
		}
		if o.TypeMigrationVersion == "" || semverLess(known[o.Type], o.TypeMigrationVersion) {
			t.Errorf("%s %s: typeMigrationVersion %q is newer than Kibana %s knows (%s)",
				o.Type, o.ID, o.TypeMigrationVersion, kibanatest.Version, known[o.Type])
		}
	}
}

func semverLess(a, b string) bool {
	var x, y [3]int
	parse := func(s string, into *[3]int) {
		var i int
		for _, c := range s {
			if c == '.' {
				i++
				continue
			}
			into[i] = into[i]*10 + int(c-'0')
		}
	}
	parse(a, &x)
	parse(b, &y)
	for i := range x {
		if x[i] != y[i] {
			return x[i] < y[i]
		}
	}
	return false
}
