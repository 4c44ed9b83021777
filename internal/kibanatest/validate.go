package kibanatest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// validate checks what Kibana would only trip over when a user opens the
// object: references the attributes name but the object lacks, JSON text
// attributes that do not parse, Lens layers and dashboard panels that
// point nowhere.
func validate(o *importObject) error {
	var attrs map[string]any
	if err := json.Unmarshal(o.Attributes, &attrs); err != nil {
		return fmt.Errorf("[attributes]: %v", err)
	}
	refs := map[string]Reference{}
	for _, r := range o.References {
		refs[r.Name] = r
	}
	switch o.Type {
	case "index-pattern":
		return validateDataView(attrs)
	case "search":
		return validateSearch(attrs, refs)
	case "lens":
		return validateLens(attrs, refs)
	case "dashboard":
		return validateDashboard(attrs, refs)
	}
	return nil
}

// jsonText parses an attribute Kibana keeps as JSON text.
func jsonText(attrs map[string]any, key string, into any) error {
	raw, ok := attrs[key]
	if !ok {
		return nil
	}
	s, ok := raw.(string)
	if !ok {
		return fmt.Errorf("[attributes.%s]: expected value of type [string]", key)
	}
	if err := json.Unmarshal([]byte(s), into); err != nil {
		return fmt.Errorf("[attributes.%s]: not JSON: %v", key, err)
	}
	return nil
}

func validateDataView(attrs map[string]any) error {
	if t, _ := attrs["title"].(string); strings.TrimSpace(t) == "" {
		return errors.New("[attributes.title]: expected value of type [string]")
	}
	if tf, ok := attrs["timeFieldName"]; ok {
		if _, ok := tf.(string); !ok {
			return errors.New("[attributes.timeFieldName]: expected value of type [string]")
		}
	}
	for _, k := range []string{"fields", "fieldFormatMap", "runtimeFieldMap", "sourceFilters", "fieldAttrs", "typeMeta"} {
		var v any
		if err := jsonText(attrs, k, &v); err != nil {
			return err
		}
	}
	return nil
}

func validateSearch(attrs map[string]any, refs map[string]Reference) error {
	cols, _ := attrs["columns"].([]any)
	for _, c := range cols {
		if _, ok := c.(string); !ok {
			return errors.New("[attributes.columns]: expected an array of strings")
		}
	}
	sorts, _ := attrs["sort"].([]any)
	for _, s := range sorts {
		pair, _ := s.([]any)
		if len(pair) != 2 {
			return errors.New("[attributes.sort]: expected [field, direction] pairs")
		}
		if d, _ := pair[1].(string); d != "asc" && d != "desc" {
			return fmt.Errorf("[attributes.sort]: direction %v is not asc or desc", pair[1])
		}
	}
	meta, _ := attrs["kibanaSavedObjectMeta"].(map[string]any)
	var src struct {
		IndexRefName string `json:"indexRefName"`
	}
	if err := jsonText(meta, "searchSourceJSON", &src); err != nil {
		return err
	}
	if src.IndexRefName == "" {
		return errors.New("searchSourceJSON names no data view (indexRefName)")
	}
	if r, ok := refs[src.IndexRefName]; !ok || r.Type != "index-pattern" {
		return fmt.Errorf("searchSourceJSON.indexRefName %q is not an index-pattern reference", src.IndexRefName)
	}
	return nil
}

func validateLens(attrs map[string]any, refs map[string]Reference) error {
	if vt, _ := attrs["visualizationType"].(string); vt == "" {
		return errors.New("[attributes.visualizationType]: expected value of type [string]")
	}
	state, _ := attrs["state"].(map[string]any)
	ds, _ := state["datasourceStates"].(map[string]any)
	fb, _ := ds["formBased"].(map[string]any)
	layers, _ := fb["layers"].(map[string]any)
	if len(layers) == 0 {
		return errors.New("[attributes.state.datasourceStates.formBased.layers]: no layer")
	}
	for id, l := range layers {
		name := "indexpattern-datasource-layer-" + id
		if r, ok := refs[name]; !ok || r.Type != "index-pattern" {
			return fmt.Errorf("layer %q has no data view: no index-pattern reference named %q", id, name)
		}
		layer, _ := l.(map[string]any)
		cols, _ := layer["columns"].(map[string]any)
		order, _ := layer["columnOrder"].([]any)
		if len(order) != len(cols) {
			return fmt.Errorf("layer %q: columnOrder lists %d columns, columns holds %d", id, len(order), len(cols))
		}
		for _, c := range order {
			cid, _ := c.(string)
			col, ok := cols[cid].(map[string]any)
			if !ok {
				return fmt.Errorf("layer %q: columnOrder names unknown column %q", id, cid)
			}
			if op, _ := col["operationType"].(string); op == "" {
				return fmt.Errorf("layer %q column %q: no operationType", id, cid)
			}
		}
	}
	return nil
}

func validateDashboard(attrs map[string]any, refs map[string]Reference) error {
	var panels []map[string]any
	if err := jsonText(attrs, "panelsJSON", &panels); err != nil {
		return err
	}
	var opts map[string]any
	if err := jsonText(attrs, "optionsJSON", &opts); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, p := range panels {
		idx, _ := p["panelIndex"].(string)
		if idx == "" || seen[idx] {
			return fmt.Errorf("panel %d: missing or repeated panelIndex %q", i, idx)
		}
		seen[idx] = true
		if _, ok := p["gridData"].(map[string]any); !ok {
			return fmt.Errorf("panel %q: no gridData", idx)
		}
		cfg, _ := p["embeddableConfig"].(map[string]any)
		if _, byValue := cfg["attributes"]; byValue {
			continue
		}
		ref, _ := p["panelRefName"].(string)
		if ref == "" {
			return fmt.Errorf("panel %q: neither a panelRefName nor attributes", idx)
		}
		r, ok := refs[idx+":"+ref]
		if !ok {
			r, ok = refs[ref]
		}
		if !ok {
			return fmt.Errorf("panel %q: panelRefName %q names no reference", idx, ref)
		}
		if typ, _ := p["type"].(string); typ != r.Type {
			return fmt.Errorf("panel %q: type %q but its reference is a %s", idx, typ, r.Type)
		}
	}
	return nil
}
