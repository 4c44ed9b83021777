package ecs

import (
	"strconv"

	"github.com/glassbox-obs/glassbox/internal/jsonenc"
)

// RenameMetadataFields renames the top-level keys of doc, one JSON object,
// that are metadata fields (see IsMetadataField) the way Keys renames a
// reserved key: k becomes k_2, or k_3 and so on, the first name no
// top-level key of doc has. It is the bulk path's safety net for
// documents glassbox's encoders did not write (theirs never carry one). It
// returns doc and false when there is nothing to rename or doc is not a
// JSON object.
func RenameMetadataFields(doc []byte) ([]byte, bool) {
	type key struct {
		start, end int
		name       string
	}
	var keys []key
	i := skipSpace(doc, 0)
	if i >= len(doc) || doc[i] != '{' {
		return doc, false
	}
	for i = skipSpace(doc, i+1); i < len(doc) && doc[i] != '}'; {
		if doc[i] != '"' {
			return doc, false
		}
		end := stringEnd(doc, i)
		name, ok := decodeString(doc[i:end])
		if !ok {
			return doc, false
		}
		keys = append(keys, key{i, end, name})
		if i = skipSpace(doc, end); i >= len(doc) || doc[i] != ':' {
			return doc, false
		}
		i = skipSpace(doc, valueEnd(doc, skipSpace(doc, i+1)))
		if i < len(doc) && doc[i] == ',' {
			i = skipSpace(doc, i+1)
		}
	}
	taken := make(map[string]bool, len(keys))
	for _, k := range keys {
		taken[k.name] = true
	}
	var out []byte
	last := 0
	for _, k := range keys {
		if !IsMetadataField(k.name) {
			continue
		}
		name := k.name
		for n := 2; taken[name]; n++ {
			name = k.name + "_" + strconv.Itoa(n)
		}
		taken[name] = true
		out = append(out, doc[last:k.start]...)
		out = jsonenc.AppendString(out, name)
		last = k.end
	}
	if out == nil {
		return doc, false
	}
	return append(out, doc[last:]...), true
}
