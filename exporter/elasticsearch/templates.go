package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	es "github.com/elastic/go-elasticsearch/v8"

	"github.com/glassbox-obs/glassbox/internal/ecs"
)

// TemplateVersion is the version of the templates and ILM policy this
// package installs. InstallTemplates never replaces a newer version.
const TemplateVersion = 2

// Names of what InstallTemplates installs.
const (
	PolicyName           = "glassbox"
	ECSComponentTemplate = "glassbox-ecs@mappings"
	SettingsTemplate     = "glassbox@settings"
	LogsIndexTemplate    = "glassbox-logs"
	TracesIndexTemplate  = "glassbox-traces"
)

// TemplatePriority is the index templates' priority: above Elasticsearch's
// built-in logs template (100), below Fleet integrations' (200).
const TemplatePriority = 150

// Template is one object InstallTemplates PUTs.
type Template struct {
	// Path is the API path, e.g. "_index_template/glassbox-logs".
	Path string
	// Body is the JSON body.
	Body json.RawMessage
}

// MinVersion is the oldest Elasticsearch the templates work on: they use
// subobjects:false with auto-flattening of objects and
// index.mapping.total_fields.ignore_dynamic_beyond_limit.
const MinVersion = "8.13.0"

type obj = map[string]any

func kw() obj { return obj{"type": "keyword", "ignore_above": 1024} }

// Templates returns, in installation order, the ILM policy, the component
// templates and the index templates, for a retention period (default 30
// days when retention <= 0).
//
// The mapping never rejects a document because of a user attribute:
// subobjects:false keeps dotted names as flat leaves (so "http":"x" and
// "http.request.method":"GET" coexist and objects are flattened into
// dotted leaves), every field not listed is mapped as keyword whatever its
// JSON type (so a value that is a number in one record and a string in the
// next is stored and searchable as both), date and numeric detection are
// off, index.mapping.ignore_malformed keeps a wrong-typed value under an
// ECS name from rejecting the document (the value stays in _source), and
// fields beyond the total-fields limit are left unmapped instead of
// failing. The ECS fields keep their types (ecs.Fields): @timestamp
// date_nanos, correlation.id, trace.id, span.id keyword, event.duration
// long, event.start date (a record's own time when @timestamp cannot hold
// it), ...
func Templates(retention time.Duration) []Template {
	if retention <= 0 {
		retention = 30 * 24 * time.Hour
	}
	meta := obj{"managed_by": "glassbox", "glassbox_version": TemplateVersion}
	hours := int64(retention / time.Hour)
	minAge := strconv.FormatInt(hours, 10) + "h"
	if hours%24 == 0 {
		minAge = strconv.FormatInt(hours/24, 10) + "d"
	}
	if hours == 0 {
		minAge = strconv.FormatInt(int64(retention/time.Minute)+1, 10) + "m"
	}
	policy := obj{"policy": obj{
		"_meta": meta,
		"phases": obj{
			"hot":    obj{"actions": obj{"rollover": obj{"max_primary_shard_size": "50gb", "max_age": "1d"}}},
			"delete": obj{"min_age": minAge, "actions": obj{"delete": obj{}}},
		},
	}}
	// The ECS fields glassbox writes, typed as ecs.Fields says.
	props := obj{}
	for _, f := range ecs.Fields() {
		if f.Type == "keyword" {
			props[f.Name] = kw()
		} else {
			props[f.Name] = obj{"type": f.Type}
		}
	}
	// ignore_malformed must stay off on a data stream's @timestamp while
	// the index-level setting turns it on for everything else.
	props[ecs.Timestamp] = obj{"type": "date_nanos", "ignore_malformed": false}
	// Unlisted leaves become keyword whatever their JSON type. Objects are
	// left out of the list on purpose: with subobjects:false they are
	// flattened into dotted leaves instead.
	var dyn []any
	for _, t := range []string{"string", "long", "double", "boolean"} {
		dyn = append(dyn, obj{t + "_as_keyword": obj{"match_mapping_type": t, "mapping": kw()}})
	}
	ecsMappings := obj{
		"version": TemplateVersion, "_meta": meta,
		"template": obj{"mappings": obj{
			"subobjects":        false,
			"date_detection":    false,
			"numeric_detection": false,
			"dynamic_templates": dyn,
			"properties":        props,
		}},
	}
	settings := obj{
		"version": TemplateVersion, "_meta": meta,
		"template": obj{"settings": obj{
			"index.mapping.ignore_malformed":                         true,
			"index.mapping.total_fields.limit":                       5000,
			"index.mapping.total_fields.ignore_dynamic_beyond_limit": true,
			"index.lifecycle.name":                                   PolicyName,
		}},
	}
	indexTemplate := func(kind string) obj {
		return obj{
			"index_patterns": []string{kind + "-*-*"},
			"priority":       TemplatePriority,
			"data_stream":    obj{},
			"composed_of":    []string{ECSComponentTemplate, SettingsTemplate},
			"version":        TemplateVersion,
			"_meta":          meta,
		}
	}
	mk := func(path string, v any) Template {
		b, _ := json.Marshal(v)
		return Template{Path: path, Body: b}
	}
	return []Template{
		mk("_ilm/policy/"+PolicyName, policy),
		mk("_component_template/"+ECSComponentTemplate, ecsMappings),
		mk("_component_template/"+SettingsTemplate, settings),
		mk("_index_template/"+LogsIndexTemplate, indexTemplate("logs")),
		mk("_index_template/"+TracesIndexTemplate, indexTemplate("traces")),
	}
}

// InstallTemplates installs the ILM policy, component templates and index
// templates of Templates(retention) through client. It is idempotent: an
// object already installed at this TemplateVersion or a newer one is left
// alone. It fails on Elasticsearch older than MinVersion. The glassbox CLI
// and WithTemplates call it.
func InstallTemplates(ctx context.Context, client *es.Client, retention time.Duration) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := checkVersion(ctx, client); err != nil {
		return err
	}
	for _, t := range Templates(retention) {
		v, err := installedVersion(ctx, client, t.Path)
		if err != nil {
			return err
		}
		if v >= TemplateVersion {
			continue
		}
		status, body, err := do(ctx, client, http.MethodPut, t.Path, t.Body)
		if err != nil {
			return err
		}
		if status != 200 {
			return fmt.Errorf("PUT %s: HTTP %d: %s", t.Path, status, body)
		}
	}
	return nil
}

// InstallTemplates installs the templates through the exporter's client;
// see the package-level InstallTemplates.
func (e *Exporter) InstallTemplates(ctx context.Context) error {
	return InstallTemplates(ctx, e.client, e.cfg.retention)
}

func do(ctx context.Context, client *es.Client, method, path string, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, "/"+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := client.Perform(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	return res.StatusCode, b, err
}

func checkVersion(ctx context.Context, client *es.Client) error {
	status, body, err := do(ctx, client, http.MethodGet, "", nil)
	if err != nil {
		return err
	}
	if status != 200 {
		return fmt.Errorf("GET /: HTTP %d: %s", status, body)
	}
	var info struct {
		Version struct {
			Number string `json:"number"`
		} `json:"version"`
	}
	if err := json.Unmarshal(body, &info); err != nil {
		return fmt.Errorf("GET /: %w", err)
	}
	if !versionAtLeast(info.Version.Number, MinVersion) {
		return fmt.Errorf("Elasticsearch %s is older than %s, which the glassbox templates need", info.Version.Number, MinVersion)
	}
	return nil
}

func versionAtLeast(have, want string) bool {
	h, w := strings.Split(have, "."), strings.Split(want, ".")
	for i := 0; i < len(w); i++ {
		var hv, wv int
		if i < len(h) {
			hv, _ = strconv.Atoi(strings.TrimFunc(h[i], func(r rune) bool { return r < '0' || r > '9' }))
		}
		wv, _ = strconv.Atoi(w[i])
		if hv != wv {
			return hv > wv
		}
	}
	return true
}

// installedVersion returns the glassbox version of an installed object, 0
// when it is missing.
func installedVersion(ctx context.Context, client *es.Client, path string) (int, error) {
	status, body, err := do(ctx, client, http.MethodGet, path, nil)
	if err != nil {
		return 0, err
	}
	if status == 404 {
		return 0, nil
	}
	if status != 200 {
		return 0, fmt.Errorf("GET %s: HTTP %d: %s", path, status, body)
	}
	var v struct {
		IndexTemplates []struct {
			T struct {
				Version int `json:"version"`
			} `json:"index_template"`
		} `json:"index_templates"`
		ComponentTemplates []struct {
			T struct {
				Version int `json:"version"`
			} `json:"component_template"`
		} `json:"component_templates"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return 0, fmt.Errorf("GET %s: %w", path, err)
	}
	switch {
	case len(v.IndexTemplates) > 0:
		return v.IndexTemplates[0].T.Version, nil
	case len(v.ComponentTemplates) > 0:
		return v.ComponentTemplates[0].T.Version, nil
	}
	// ILM: {"<name>":{"policy":{"_meta":{"glassbox_version":1}}}}
	var p map[string]struct {
		Policy struct {
			Meta struct {
				V int `json:"glassbox_version"`
			} `json:"_meta"`
		} `json:"policy"`
	}
	if err := json.Unmarshal(body, &p); err == nil {
		for _, x := range p {
			return x.Policy.Meta.V, nil
		}
	}
	return 0, nil
}
