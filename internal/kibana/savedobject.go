package kibana

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// MinKibanaVersion is the oldest Kibana the saved objects import into.
// The Elasticsearch templates need Elasticsearch 8.13, and the objects
// are written in the format of Kibana 8.13: Lens panels with the
// "formBased" datasource, dashboards that reference them by saved-object
// ID, migration versions that 8.13 knows (see TypeMigrationVersions).
const MinKibanaVersion = "8.13.0"

// CoreMigrationVersion is the coreMigrationVersion of every object: the
// last version whose core migrations (ID rewrites) the objects have had.
const CoreMigrationVersion = "8.8.0"

// TypeMigrationVersions is, per saved-object type, the typeMigrationVersion
// written on the objects: the format version of their attributes. Kibana
// runs the migrations after that version on import; it refuses a version
// newer than it knows, so these are versions every Kibana from
// MinKibanaVersion on knows.
func TypeMigrationVersions() map[string]string {
	return map[string]string{
		TypeDataView:  "8.0.0",
		TypeSearch:    "8.0.0",
		TypeLens:      "8.9.0",
		TypeDashboard: "8.9.0",
	}
}

// Saved-object types glassbox writes.
const (
	TypeDataView  = "index-pattern"
	TypeSearch    = "search"
	TypeLens      = "lens"
	TypeDashboard = "dashboard"
)

// SavedObject is one line of a Kibana saved-objects NDJSON file, in the
// format the import API reads (and the export API writes).
type SavedObject struct {
	Type                 string         `json:"type"`
	ID                   string         `json:"id"`
	Attributes           map[string]any `json:"attributes"`
	References           []Reference    `json:"references"`
	CoreMigrationVersion string         `json:"coreMigrationVersion"`
	TypeMigrationVersion string         `json:"typeMigrationVersion"`
	Managed              bool           `json:"managed"`
}

// Reference is a saved object's link to another, by type and ID, under a
// name the attributes use.
type Reference struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Title returns the object's title attribute, or its ID.
func (o *SavedObject) Title() string {
	if t, ok := o.Attributes["title"].(string); ok && o.Type != TypeDataView {
		return t
	}
	if n, ok := o.Attributes["name"].(string); ok {
		return n
	}
	return o.ID
}

func newObject(typ, id string, attrs map[string]any, refs ...Reference) SavedObject {
	if refs == nil {
		refs = []Reference{}
	}
	return SavedObject{
		Type:                 typ,
		ID:                   id,
		Attributes:           attrs,
		References:           refs,
		CoreMigrationVersion: CoreMigrationVersion,
		TypeMigrationVersion: TypeMigrationVersions()[typ],
	}
}

// Objects returns glassbox's saved objects, referenced objects before the
// objects that reference them: the data views, the saved search, the Lens
// visualizations and the dashboard. Their IDs are fixed, so a second
// import overwrites the first instead of adding copies.
func Objects() []SavedObject {
	objs := []SavedObject{logsDataView(), tracesDataView(), correlationSearch()}
	lens := lensPanels()
	for _, p := range lens {
		objs = append(objs, p.object())
	}
	return append(objs, dashboard(lens))
}

// NDJSON encodes objects one per line, each line a JSON object, as the
// import API reads them.
func NDJSON(objects []SavedObject) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for i := range objects {
		if err := enc.Encode(&objects[i]); err != nil {
			return nil, fmt.Errorf("kibana: %s %s: %w", objects[i].Type, objects[i].ID, err)
		}
	}
	return buf.Bytes(), nil
}

// jsonString returns v marshalled, for the attributes Kibana keeps as JSON
// text (searchSourceJSON, panelsJSON, optionsJSON, fieldFormatMap).
func jsonString(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // only maps, slices, strings and numbers built here: cannot fail
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}
