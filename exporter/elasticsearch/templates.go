package elasticsearch

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/glassbox-obs/glassbox/internal/ecs"
)

// TemplateVersion is the version of the templates and ILM policy this
// package installs. Cluster.InstallTemplates replaces an older version and
// leaves a newer one alone.
const TemplateVersion = 3

// Names of what Cluster.InstallTemplates installs.
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

// Template is one object Cluster.InstallTemplates PUTs.
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
		retention = defaultRetention
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
