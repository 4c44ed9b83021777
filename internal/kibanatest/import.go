package kibanatest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
)

// importObject is one line of an import file as the server reads it.
type importObject struct {
	Type                 string            `json:"type"`
	ID                   string            `json:"id"`
	Attributes           json.RawMessage   `json:"attributes"`
	References           []Reference       `json:"references"`
	CoreMigrationVersion string            `json:"coreMigrationVersion"`
	TypeMigrationVersion string            `json:"typeMigrationVersion"`
	MigrationVersion     map[string]string `json:"migrationVersion"`
}

// ImportError is one entry of the response's errors, in Kibana's shape.
type ImportError struct {
	ID    string         `json:"id"`
	Type  string         `json:"type"`
	Title string         `json:"title,omitempty"`
	Meta  map[string]any `json:"meta"`
	Error map[string]any `json:"error"`
}

// importQuery reads the query parameters Kibana's import route accepts and
// refuses any other, as Kibana's schema validation does.
func importQuery(r *http.Request) (overwrite bool, err error) {
	var newCopies bool
	for k, vs := range r.URL.Query() {
		v := vs[len(vs)-1]
		if v != "true" && v != "false" {
			return false, fmt.Errorf("[request query.%s]: expected value of type [boolean] but got [string]", k)
		}
		switch k {
		case "overwrite":
			overwrite = v == "true"
		case "createNewCopies":
			newCopies = v == "true"
		case "compatibilityMode":
		default:
			return false, fmt.Errorf("[request query.%s]: definition for this key is missing", k)
		}
	}
	if overwrite && newCopies {
		return false, errors.New("cannot use [overwrite] with [createNewCopies]")
	}
	if newCopies {
		return false, errors.New("kibanatest: createNewCopies is not implemented")
	}
	return overwrite, nil
}

// readFile returns the content of the multipart field "file".
func readFile(w http.ResponseWriter, r *http.Request) ([]byte, int, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, http.StatusUnsupportedMediaType, fmt.Errorf("Unsupported Media Type")
	}
	body := http.MaxBytesReader(w, r.Body, maxPayload)
	mr := multipart.NewReader(body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil, http.StatusBadRequest, errors.New("[request body.file]: expected value of type [Stream] but got [undefined]")
		}
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, http.StatusRequestEntityTooLarge, errors.New("Payload content length greater than maximum allowed: 26214400")
		}
		if err != nil {
			return nil, http.StatusBadRequest, fmt.Errorf("invalid multipart payload: %v", err)
		}
		if p.FormName() != "file" {
			continue
		}
		if ext := filepath.Ext(p.FileName()); ext != ".ndjson" {
			return nil, http.StatusBadRequest, fmt.Errorf("Invalid file extension %s", ext)
		}
		b, err := io.ReadAll(p)
		if errors.As(err, &tooBig) {
			return nil, http.StatusRequestEntityTooLarge, errors.New("Payload content length greater than maximum allowed: 26214400")
		}
		if err != nil {
			return nil, http.StatusBadRequest, err
		}
		return b, 0, nil
	}
}

// parseLines reads the NDJSON file: every non-blank line one JSON object;
// the export summary line is skipped.
func parseLines(file []byte) ([]*importObject, error) {
	var out []*importObject
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(file))
	sc.Buffer(nil, maxPayload)
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		if !json.Valid(text) || text[0] != '{' {
			return nil, fmt.Errorf("Unexpected token in JSON at line %d", line)
		}
		var probe map[string]json.RawMessage
		if err := json.Unmarshal(text, &probe); err != nil {
			return nil, fmt.Errorf("Unexpected token in JSON at line %d", line)
		}
		if _, summary := probe["exportedCount"]; summary {
			continue
		}
		o := &importObject{}
		dec := json.NewDecoder(bytes.NewReader(text))
		if err := dec.Decode(o); err != nil {
			return nil, fmt.Errorf("line %d: %v", line, err)
		}
		if o.Type == "" || o.ID == "" {
			return nil, fmt.Errorf("line %d: an object needs a type and an id", line)
		}
		if len(o.Attributes) == 0 || o.Attributes[0] != '{' {
			return nil, fmt.Errorf("line %d: [attributes]: expected value of type [object]", line)
		}
		for _, ref := range o.References {
			if ref.Type == "" || ref.ID == "" || ref.Name == "" {
				return nil, fmt.Errorf("line %d: [references]: a reference needs a type, an id and a name", line)
			}
		}
		key := o.Type + ":" + o.ID
		if seen[key] {
			return nil, fmt.Errorf("Non-unique import objects detected: [%s]", key)
		}
		seen[key] = true
		out = append(out, o)
		if len(out) > maxImportObjects {
			return nil, fmt.Errorf("Can't import more than %d objects", maxImportObjects)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// checkVersions fails the whole import, as Kibana's migrator does, when an
// object is newer than this Kibana.
func checkVersions(objs []*importObject) error {
	known := KnownTypes()
	for _, o := range objs {
		if o.CoreMigrationVersion != "" {
			if !validSemver(o.CoreMigrationVersion) {
				return fmt.Errorf("Document %q has an invalid \"coreMigrationVersion\" [%s]. This must be a semver value.", o.ID, o.CoreMigrationVersion)
			}
			if semverLess(Version, o.CoreMigrationVersion) {
				return fmt.Errorf("Document %q belongs to a more recent version of Kibana [%s] when the last known version is [%s].", o.ID, o.CoreMigrationVersion, Version)
			}
		}
		latest, ok := known[o.Type]
		if !ok {
			continue
		}
		v := o.TypeMigrationVersion
		if v == "" {
			v = o.MigrationVersion[o.Type]
		}
		if v == "" {
			continue
		}
		if !validSemver(v) {
			return fmt.Errorf("Document %q has an invalid \"typeMigrationVersion\" [%s]. This must be a semver value.", o.ID, v)
		}
		if semverLess(latest, v) {
			return fmt.Errorf("Document %q belongs to a more recent version of Kibana [%s] when the last known version is [%s].", o.ID, v, latest)
		}
	}
	return nil
}

func (s *Server) importObjects(w http.ResponseWriter, r *http.Request, space string) {
	overwrite, err := importQuery(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	file, status, err := readFile(w, r)
	if err != nil {
		writeError(w, status, err.Error())
		return
	}
	objs, err := parseLines(file)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := checkVersions(objs); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if refused := s.refusedTypes(objs); len(refused) > 0 {
		writeError(w, http.StatusForbidden, "Unable to bulk_create "+strings.Join(refused, ","))
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.imports++
	store := s.spaces[space]
	known := KnownTypes()
	for t := range s.disabled {
		delete(known, t)
	}
	inFile := map[string]bool{}
	for _, o := range objs {
		if _, ok := known[o.Type]; ok {
			inFile[o.Type+"/"+o.ID] = true
		}
	}
	var errs []ImportError
	var results []map[string]any
	for _, o := range objs {
		title := objectTitle(o)
		fail := func(e map[string]any) {
			errs = append(errs, ImportError{ID: o.ID, Type: o.Type, Title: title,
				Meta: map[string]any{"title": title}, Error: e})
		}
		if _, ok := known[o.Type]; !ok {
			fail(map[string]any{"type": "unsupported_type"})
			continue
		}
		var missing []map[string]any
		for _, ref := range o.References {
			k := ref.Type + "/" + ref.ID
			if !inFile[k] && store[k] == nil {
				missing = append(missing, map[string]any{"type": ref.Type, "id": ref.ID})
			}
		}
		if len(missing) > 0 {
			fail(map[string]any{"type": "missing_references", "references": missing})
			continue
		}
		if err := validate(o); err != nil {
			fail(map[string]any{"type": "unknown", "message": err.Error(), "statusCode": 400})
			continue
		}
		k := o.Type + "/" + o.ID
		existed := store[k] != nil
		if existed && !overwrite {
			fail(map[string]any{"type": "conflict"})
			continue
		}
		store[k] = &Object{Type: o.Type, ID: o.ID, Attributes: o.Attributes,
			References: o.References, TypeMigrationVersion: o.TypeMigrationVersion}
		res := map[string]any{"type": o.Type, "id": o.ID,
			"meta": map[string]any{"title": title, "icon": icon(o.Type)}, "managed": false}
		if existed {
			res["overwrite"] = true
		}
		results = append(results, res)
	}
	resp := map[string]any{
		"success":      len(errs) == 0,
		"successCount": len(results),
		"warnings":     []any{},
	}
	if len(results) > 0 {
		resp["successResults"] = results
	}
	if len(errs) > 0 {
		resp["errors"] = errs
	}
	writeJSON(w, http.StatusOK, resp)
}

func objectTitle(o *importObject) string {
	var a struct {
		Title string `json:"title"`
		Name  string `json:"name"`
	}
	_ = json.Unmarshal(o.Attributes, &a)
	if o.Type == "index-pattern" && a.Name != "" {
		return a.Name
	}
	if a.Title != "" {
		return a.Title
	}
	return o.ID
}

func icon(typ string) string {
	switch typ {
	case "index-pattern":
		return "indexPatternApp"
	case "search":
		return "discoverApp"
	case "lens":
		return "lensApp"
	case "dashboard":
		return "dashboardApp"
	}
	return "visualizeApp"
}

// validSemver accepts what Kibana's migrator does: major.minor.patch.
func validSemver(v string) bool {
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" || (len(p) > 1 && p[0] == '0') {
			return false
		}
	}
	return true
}

// semverLess reports a < b for valid versions.
func semverLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < 3; i++ {
		if len(pa[i]) != len(pb[i]) {
			return len(pa[i]) < len(pb[i])
		}
		if pa[i] != pb[i] {
			return pa[i] < pb[i]
		}
	}
	return false
}

// refusedTypes returns, sorted, the types of objs that WithoutPrivilege
// keeps the user from creating.
func (s *Server) refusedTypes(objs []*importObject) []string {
	seen := map[string]bool{}
	var out []string
	for _, o := range objs {
		if s.readOnly[o.Type] && !seen[o.Type] {
			seen[o.Type] = true
			out = append(out, o.Type)
		}
	}
	sort.Strings(out)
	return out
}
