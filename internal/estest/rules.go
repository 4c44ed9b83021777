package estest

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The document rules below are those of Elasticsearch 8.19's document
// parser, from its source:
//
//   - org.elasticsearch.index.mapper.DotExpandingXContentParser (expandDots,
//     doExpandDots, throwOnBlankOrEmptyPart): a field name may not be empty
//     ("field name cannot be an empty string") or only dots ("field name
//     cannot contain only dots"), and when it has dots no segment may be
//     empty or blank. Elasticsearch swaps the two messages there: an empty
//     segment says "cannot contain only whitespace", a blank one says
//     "starting or ending with a [.]"; the server answers the same.
//     Elasticsearch drops trailing empty segments ("a." is read as "a");
//     the server rejects a trailing dot instead, which is stricter.
//   - org.elasticsearch.index.mapper.DocumentParser.innerParseObject: a
//     field name that String.isBlank() ("Field name cannot contain only
//     whitespace: [path]").
//   - Jackson's STRICT_DUPLICATE_DETECTION, which Elasticsearch's JSON
//     parser turns on: "Duplicate field 'k'" (see parseFrom), in every
//     object at every depth, comparing decoded names.
//   - Jackson's UTF-8 parser rejects a document with invalid UTF-8
//     ("Invalid UTF-8 start byte").
//   - org.elasticsearch.common.time.DateUtils.toLong: a date_nanos value
//     must lie between 1970-01-01T00:00:00Z and
//     2262-04-11T23:47:16.854775807Z (nanoseconds since the epoch in a
//     signed 64-bit long).
//   - MetadataFieldMapper names (IndicesModule's built-in metadata mappers
//     and those of the default distribution's plugins) may not appear as
//     document fields.

// checkFieldName applies the field-name rules to key k of an object whose
// path is prefix.
func checkFieldName(prefix, k string) *docError {
	if k == "" {
		return parsingError("failed to parse: field name cannot be an empty string")
	}
	if !strings.Contains(k, ".") {
		if blank(k) {
			return parsingError("Field name cannot contain only whitespace: [%s]", prefix+k)
		}
		return nil
	}
	if strings.Trim(k, ".") == "" {
		return parsingError("failed to parse: field name cannot contain only dots")
	}
	for _, part := range strings.Split(k, ".") {
		switch {
		case part == "":
			return parsingError("failed to parse: field name cannot contain only whitespace: ['%s']", k)
		case blank(part):
			return parsingError("failed to parse: field name starting or ending with a [.] makes object resolution ambiguous: [%s]", k)
		}
	}
	return nil
}

// blank is Java's String.isBlank: true when every code point is
// Character.isWhitespace (so also for "").
func blank(s string) bool {
	for _, r := range s {
		if !javaWhitespace(r) {
			return false
		}
	}
	return true
}

// javaWhitespace is Java's Character.isWhitespace: the Unicode space, line
// and paragraph separators except the no-break spaces U+00A0, U+2007 and
// U+202F, and U+0009 to U+000D and U+001C to U+001F. (Go's unicode.IsSpace
// differs: it has U+0085 and the no-break spaces, not U+001C to U+001F.)
func javaWhitespace(r rune) bool {
	switch {
	case r >= 0x09 && r <= 0x0d, r >= 0x1c && r <= 0x1f:
		return true
	case r == 0xa0, r == 0x2007, r == 0x202f:
		return false
	}
	return unicode.In(r, unicode.Zs, unicode.Zl, unicode.Zp)
}

// maxNanosecondTime is the last instant date_nanos holds.
var maxNanosecondTime = time.Unix(0, 1<<63-1)

// nanosecondRange is DateUtils.toLong's check.
func nanosecondRange(t time.Time) error {
	if t.Before(time.Unix(0, 0)) {
		return fmt.Errorf("date[%s] is before the epoch in 1970 and cannot be stored in nanosecond resolution", t.UTC().Format(time.RFC3339Nano))
	}
	if t.After(maxNanosecondTime) {
		return fmt.Errorf("date[%s] is after 2262-04-11T23:47:16.854775807 and cannot be stored in nanosecond resolution", t.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// invalidUTF8 returns Jackson's error for the first invalid byte of src,
// or nil.
func invalidUTF8(src []byte) *docError {
	for i := 0; i < len(src); {
		r, n := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && n == 1 {
			return parsingError("[1:%d] failed to parse: Invalid UTF-8 start byte 0x%02x", i+1, src[i])
		}
		i += n
	}
	return nil
}

// metadataFields are Elasticsearch's metadata fields, which a document may
// not contain ("Field [_id] is a metadata field and cannot be added inside
// a document"): the built-in ones, those of the default distribution's
// plugins (_tier, _feature, _inference_fields) and _size of the
// mapper-size plugin.
var metadataFields = map[string]bool{
	"_id": true, "_index": true, "_index_mode": true, "_source": true, "_routing": true,
	"_ignored": true, "_ignored_source": true, "_seq_no": true, "_primary_term": true,
	"_version": true, "_tier": true, "_field_names": true, "_doc_count": true,
	"_data_stream_timestamp": true, "_nested_path": true, "_feature": true, "_tsid": true,
	"_ts_routing_hash": true, "_size": true, "_inference_fields": true,
}
