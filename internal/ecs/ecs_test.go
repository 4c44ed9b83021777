package ecs

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/glassbox-obs/glassbox/internal/estest"
	"github.com/glassbox-obs/glassbox/internal/jsonenc"
)

// flatServer is an Elasticsearch test server with a data stream template
// like the shipped one in what matters here: subobjects false, so that
// every key is checked as a field name and no mapping conflict hides a
// rejection.
func flatServer(t testing.TB) *estest.Server {
	t.Helper()
	srv := estest.New(t)
	if err := srv.Put("_index_template/flat", []byte(`{"index_patterns":["logs-*-*"],"priority":500,"data_stream":{},
		"template":{"settings":{"index.mapping.total_fields.ignore_dynamic_beyond_limit":true},"mappings":{"subobjects":false,"dynamic_templates":[{"k":{"match_mapping_type":"*","mapping":{"type":"keyword"}}}],
		"properties":{"@timestamp":{"type":"date_nanos"}}}}}`)); err != nil {
		t.Fatal(err)
	}
	return srv
}

func TestAppendSafeKey(t *testing.T) {
	for key, want := range map[string]string{
		"plain":               "plain",
		"http.request.method": "http.request.method",
		"a b":                 "a b",
		" a. b":               " a. b",
		"":                    "_",
		" ":                   "_",
		"\t":                  `_`,
		"\x1c":                "_", // Java whitespace, not Go's
		"\u00a0":              "_", // Go's, not Java's
		"\u3000\u2028":        "_",
		"a..b":                "a._.b",
		"a. .b":               "a._.b",
		"a.\t.b":              "a._.b",
		".a":                  "_.a",
		"a.":                  "a._",
		"..":                  "_._._",
		"quote\"back\\":       `quote\"back\\`,
		"nl\nx":               `nl\nx`,
		"bad\xff":             "bad\uFFFD",
	} {
		if got := string(AppendSafeKey(nil, key)); got != want {
			t.Errorf("AppendSafeKey(%q) = %q, want %q", key, got, want)
		}
	}
}

// Whatever the key, Elasticsearch takes the field name it becomes.
func FuzzAppendSafeKey(f *testing.F) {
	for _, k := range []string{"", " ", "\t", "\x1c", "a..b", "a. .b", ".", "a.", "\u00a0", "\xff", "_id"} {
		f.Add(k)
	}
	srv := flatServer(f)
	f.Fuzz(func(t *testing.T, key string) {
		doc := []byte(`{"@timestamp":"2026-01-01T00:00:00Z","`)
		doc = append(AppendSafeKey(doc, "k."+key), `":1}`...)
		if err := srv.Create("logs-fuzz-default", doc); err != nil {
			t.Fatalf("key %q as %s: %v", key, doc, err)
		}
	})
}

// write appends keys as the members of one object ({"k1":0,"k2":1,...})
// through a Keys and returns the keys as a JSON parser reads them.
func write(t *testing.T, doc DocKind, keys ...string) []string {
	t.Helper()
	k := Keys{Doc: doc}
	b := []byte{'{'}
	for i, key := range keys {
		b = k.AppendKey(b, key, true)
		b = jsonenc.AppendInt(b, int64(i))
	}
	b = append(b, '}')
	return objectKeys(t, b)
}

// objectKeys returns the keys of the JSON object b in order, failing on
// invalid JSON.
func objectKeys(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %s", b)
	}
	var out []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("%v in %s", err, b)
		}
		out = append(out, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatalf("%v in %s", err, b)
		}
	}
	return out
}

func TestKeysAreUniqueAndNotReserved(t *testing.T) {
	cases := []struct {
		name string
		doc  DocKind
		keys []string
		want []string
	}{
		{"repeats", LogDoc, []string{"a", "a", "a"}, []string{"a", "a_2", "a_3"}},
		{"equal after sanitising", LogDoc, []string{"", " ", "\t"}, []string{"_", "__2", "__3"}},
		{"a..b and a._.b", LogDoc, []string{"a..b", "a._.b"}, []string{"a._.b", "a._.b_2"}},
		{"suffix taken", LogDoc, []string{"a_2", "a", "a"}, []string{"a_2", "a", "a_3"}},
		{"equal after decoding", LogDoc, []string{"x\xff", "x\uFFFD"}, []string{"x\uFFFD", "x\uFFFD_2"}},
		{"reserved log field", LogDoc, []string{"message", "@timestamp", "event.start"}, []string{"message_2", "@timestamp_2", "event.start_2"}},
		{"metadata field", LogDoc, []string{"_id", "_index_mode"}, []string{"_id_2", "_index_mode_2"}},
		{"span field free in logs", LogDoc, []string{"span.name"}, []string{"span.name"}},
		{"reserved span field", SpanDoc, []string{"span.name", "trace.id", "_source"}, []string{"span.name_2", "trace.id_2", "_source_2"}},
		{"renamed vs literal", SpanDoc, []string{"trace.id_2", "trace.id"}, []string{"trace.id_2", "trace.id_3"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := write(t, tc.doc, tc.keys...)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("got keys %q, want %q", got, tc.want)
			}
		})
	}
}

func TestKeysScopes(t *testing.T) {
	var k Keys
	b := []byte{'{'}
	b = k.AppendKey(b, "a", true)
	b = append(b, '{')
	s := k.Open()
	b = append(k.AppendKey(b, "a", false), '0')       // another object: no clash
	b = append(k.AppendKey(b, "message", false), '1') // not top level: not reserved
	b = append(k.AppendKey(b, "a", false), '2')
	b = append(b, '}')
	k.Close(s)
	b = k.AppendKey(b, "a", true)
	b = append(append(b, '3'), '}')
	if want := `{"a":{"a":0,"message":1,"a_2":2},"a_2":3}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
}

func TestEveryReservedNameIsReserved(t *testing.T) {
	for _, k := range append(LogFields(), MetadataFields()...) {
		if !reservedLog(k) {
			t.Errorf("log documents: %q not reserved", k)
		}
	}
	for _, k := range append(SpanFields(), MetadataFields()...) {
		if !reservedSpan(k) {
			t.Errorf("span documents: %q not reserved", k)
		}
	}
	for _, k := range MetadataFields() {
		if !IsMetadataField(k) {
			t.Errorf("%q: IsMetadataField false", k)
		}
	}
	for _, k := range LogFields() {
		if !IsLogField(k) {
			t.Errorf("%q: IsLogField false", k)
		}
	}
	for _, k := range append(MetadataFields(), SpanName, ParentID, ErrorMessage, ErrorID, HTTPRoute) {
		if IsLogField(k) {
			t.Errorf("%q: IsLogField true for a field the log handler does not write on its own", k)
		}
	}
	for _, k := range []string{"user", "_private", "messages", "trace", "http.request.method", "event.start.x"} {
		if reservedLog(k) || reservedSpan(k) || IsMetadataField(k) || IsLogField(k) {
			t.Errorf("%q reserved, want it free", k)
		}
	}
}

// The metadata fields are those the strict test server rejects.
func TestMetadataFieldsAreRejectedByElasticsearch(t *testing.T) {
	srv := flatServer(t)
	for _, k := range []string{"_id", "_index", "_source", "_routing", "_ignored", "_ignored_source", "_seq_no",
		"_primary_term", "_version", "_tier", "_field_names", "_doc_count", "_data_stream_timestamp",
		"_nested_path", "_feature", "_tsid", "_ts_routing_hash", "_index_mode", "_inference_fields", "_size"} {
		if !IsMetadataField(k) {
			t.Errorf("%q: not a metadata field here", k)
		}
		if err := srv.Create("logs-meta-default", []byte(`{"@timestamp":"2026-01-01T00:00:00Z","`+k+`":1}`)); err == nil {
			t.Errorf("%q: the test server stored it, want it rejected (keep both lists in step)", k)
		}
	}
}

func TestAppendJSON(t *testing.T) {
	redact := func(k string) bool { return k == "password" }
	src := `{"":1," ":2,"a..b":{"":{"\t":3},"password":{"x":1},"ok":"{\"\":\"text, not a key\"}"},` +
		`"l":[{"k":1,"k":2},[{"\u001c":0}]],"\u003c":"html-escaped key","<":"dup"}`
	var k Keys
	got := string(k.AppendJSON([]byte(`{"v":`), []byte(src), redact, "[REDACTED]")) + "}"
	want := `{"v":{"_":1,"__2":2,"a._.b":{"_":{"_":3},"password":"[REDACTED]","ok":"{\"\":\"text, not a key\"}"},` +
		`"l":[{"k":1,"k_2":2},[{"_":0}]],"<":"html-escaped key","<_2":"dup"}}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if !json.Valid([]byte(got)) {
		t.Errorf("invalid JSON: %s", got)
	}
}

func TestRenameMetadataFields(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"_id":1,"_id_2":2,"x":{"_id":3}}`, `{"_id_3":1,"_id_2":2,"x":{"_id":3}}`},
		{` { "_index" : "a" , "_source":[1,{"_id":2}] } `, ` { "_index_2" : "a" , "_source_2":[1,{"_id":2}] } `},
		{`{"\u005fid":true}`, `{"_id_2":true}`},
	} {
		got, ok := RenameMetadataFields([]byte(tc.in))
		if !ok || string(got) != tc.want {
			t.Errorf("RenameMetadataFields(%s) = %s, %v; want %s, true", tc.in, got, ok, tc.want)
		}
	}
	for _, in := range []string{`{"a":1}`, `[{"_id":1}]`, `{"_id"`, `not json`} {
		if got, ok := RenameMetadataFields([]byte(in)); ok || string(got) != in {
			t.Errorf("RenameMetadataFields(%s) = %s, %v; want it unchanged, false", in, got, ok)
		}
	}
}

func TestTimestampRange(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		in   bool
		want time.Time
	}{
		{time.Unix(0, 0), true, time.Unix(0, 0)},
		{time.Unix(0, -1), false, MinTimestamp},
		{time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), false, MinTimestamp},
		{time.Date(2262, 4, 11, 23, 47, 16, 854775807, time.UTC), true, MaxTimestamp},
		{time.Date(2262, 4, 11, 23, 47, 16, 854775808, time.UTC), false, MaxTimestamp},
		{time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), false, MaxTimestamp},
		{time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("x", 3600)), true, time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("x", 3600))},
	} {
		if got := InTimestampRange(tc.t); got != tc.in {
			t.Errorf("InTimestampRange(%v) = %v, want %v", tc.t, got, tc.in)
		}
		if got := ClampTimestamp(tc.t); !got.Equal(tc.want) {
			t.Errorf("ClampTimestamp(%v) = %v, want %v", tc.t, got, tc.want)
		}
	}
	if got := string(jsonenc.AppendTimeContent(nil, MaxTimestamp)); got != "2262-04-11T23:47:16.854775807Z" {
		t.Errorf("MaxTimestamp is %s", got)
	}
}

func TestFieldsAreListedOnce(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Fields() {
		if seen[f.Name] {
			t.Errorf("%s listed twice", f.Name)
		}
		seen[f.Name] = true
	}
	for _, k := range append(LogFields(), SpanFields()...) {
		if k != SpanEvents && k != SpanLinks && !seen[k] {
			t.Errorf("%s is written but the templates do not map it", k)
		}
	}
}

// AppendKeyInfo with InspectKey's KeyInfo writes exactly what AppendKey
// writes, for hostile keys, repeats and reserved names, at the top level
// and nested, in logs and spans: one table through both.
func TestAppendKeyInfoMatchesAppendKey(t *testing.T) {
	keys := []string{
		"user", "user", "a_2", "a", "a", "message", "@timestamp", "_id", "span.name", "trace.id",
		"", " ", "\t", "\x1c", "a..b", "a._.b", "a.", ".a", "quote\"", "x\xff", "x\uFFFD",
		"http.request.method", "日本", "a b", "k", "k_2", "k", "order_id", "authorised_at",
	}
	for _, doc := range []DocKind{LogDoc, SpanDoc} {
		for _, top := range []bool{true, false} {
			var k1, k2 Keys
			k1.Doc, k2.Doc = doc, doc
			b1, b2 := []byte{'{'}, []byte{'{'}
			for i, key := range keys {
				ki := InspectKey(key)
				b1 = jsonenc.AppendInt(k1.AppendKey(b1, key, top), int64(i))
				b2 = jsonenc.AppendInt(k2.AppendKeyInfo(b2, key, &ki, top), int64(i))
			}
			if string(b1) != string(b2) {
				t.Errorf("doc %d, top %v:\nAppendKey     %s\nAppendKeyInfo %s", doc, top, b1, b2)
			}
			objectKeys(t, append(b2, '}')) // valid JSON
		}
	}
}

func FuzzAppendKeyInfoMatchesAppendKey(f *testing.F) {
	f.Add("a", "a", "message", true)
	f.Add("a..b", "a._.b", "_id", true)
	f.Add(" ", "_", "__2", false)
	f.Fuzz(func(t *testing.T, x, y, z string, top bool) {
		var k1, k2 Keys
		b1, b2 := []byte{'{'}, []byte{'{'}
		for _, key := range []string{x, y, z, x, y} {
			ki := InspectKey(key)
			b1 = append(k1.AppendKey(b1, key, top), '0')
			b2 = append(k2.AppendKeyInfo(b2, key, &ki, top), '0')
		}
		if string(b1) != string(b2) {
			t.Fatalf("AppendKey %s, AppendKeyInfo %s", b1, b2)
		}
	})
}
