package estest

import (
	"strings"
	"testing"
)

// The document rules of Elasticsearch 8.19 that decide whether a document
// is rejected whatever the mapping (see rules.go for their sources).
func TestDocumentRulesOfElasticsearch(t *testing.T) {
	s := New(t)
	if err := s.Put("_index_template/nanos", []byte(`{"index_patterns":["nanos-*"],"data_stream":{},"priority":1,
		"template":{"settings":{"index.mapping.ignore_malformed":true},"mappings":{"properties":{
		"@timestamp":{"type":"date_nanos","ignore_malformed":false},"at":{"type":"date_nanos"}}}}}`)); err != nil {
		t.Fatal(err)
	}
	const ts = `"@timestamp":"2026-01-01T00:00:00Z"`
	cases := []struct {
		name, index, doc string
		want             string // "" means stored
	}{
		{"plain", "logs-a-b", `{` + ts + `,"a":1,"b.c":{"d":2}}`, ""},
		{"empty name", "logs-a-b", `{` + ts + `,"":1}`, "field name cannot be an empty string"},
		{"empty name inside an object", "logs-a-b", `{` + ts + `,"mp":{"":1}}`, "field name cannot be an empty string"},
		{"space", "logs-a-b", `{` + ts + `," ":1}`, "Field name cannot contain only whitespace: [ ]"},
		{"tab", "logs-a-b", `{` + ts + `,"\t":1}`, "Field name cannot contain only whitespace"},
		{"Java whitespace U+001C", "logs-a-b", `{` + ts + `,"\u001c":1}`, "Field name cannot contain only whitespace"},
		{"ideographic space", "logs-a-b", `{` + ts + `,"` + "\u3000" + `":1}`, "Field name cannot contain only whitespace"},
		{"no-break space is not Java whitespace", "logs-a-b", `{` + ts + `,"` + "\u00a0" + `":1}`, ""},
		{"whitespace inside an object", "logs-a-b", `{` + ts + `,"mp":{" ":1}}`, "Field name cannot contain only whitespace: [mp. ]"},
		{"whitespace inside an array", "logs-a-b", `{` + ts + `,"l":[{"\n":1}]}`, "Field name cannot contain only whitespace"},
		{"blank segment", "logs-a-b", `{` + ts + `,"a. .b":1}`, "makes object resolution ambiguous: [a. .b]"},
		{"empty segment", "logs-a-b", `{` + ts + `,"a..b":1}`, "field name cannot contain only whitespace: ['a..b']"},
		{"leading dot", "logs-a-b", `{` + ts + `,".a":1}`, "field name cannot contain only whitespace"},
		{"only dots", "logs-a-b", `{` + ts + `,"..":1}`, "field name cannot contain only dots"},
		{"duplicate", "logs-a-b", `{` + ts + `,"a":1,"a":2}`, "Duplicate field 'a'"},
		{"duplicate inside an object", "logs-a-b", `{` + ts + `,"mp":{"k":1,"k":2}}`, "Duplicate field 'k'"},
		{"duplicate after decoding", "logs-a-b", `{` + ts + `,"a":1,"\u0061":2}`, "Duplicate field 'a'"},
		{"invalid UTF-8", "logs-a-b", `{` + ts + `,"u":"` + "\xff" + `"}`, "Invalid UTF-8 start byte 0xff"},
		{"metadata field", "logs-a-b", `{` + ts + `,"_index_mode":1}`, "is a metadata field"},
		{"date_nanos at the epoch", "nanos-a", `{"@timestamp":"1970-01-01T00:00:00Z"}`, ""},
		{"date_nanos at its last instant", "nanos-a", `{"@timestamp":"2262-04-11T23:47:16.854775807Z"}`, ""},
		{"date_nanos before 1970", "nanos-a", `{"@timestamp":"1969-12-31T23:59:59.999999999Z"}`, "is before the epoch in 1970"},
		{"date_nanos in 2300", "nanos-a", `{"@timestamp":"2300-01-01T00:00:00Z"}`, "is after 2262-04-11T23:47:16.854775807"},
		{"date_nanos a nanosecond too late", "nanos-a", `{"@timestamp":"2262-04-11T23:47:16.854775808Z"}`, "is after 2262-04-11T23:47:16.854775807"},
		{"date_nanos epoch millis in 2300", "nanos-a", `{"@timestamp":10413792000000}`, "is after 2262-04-11T23:47:16.854775807"},
		{"ignore_malformed keeps a late non-timestamp date_nanos out", "nanos-a", `{"@timestamp":"2026-01-01T00:00:00Z","at":"2300-01-01T00:00:00Z"}`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Create(tc.index, []byte(tc.doc))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("got %v, want the document stored", err)
			case tc.want != "" && err == nil:
				t.Fatalf("got the document stored, want an error containing %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	// The same rules through _bulk: one item rejected, its neighbour stored.
	r := bulk(t, s, c("w1"), `{`+ts+`," ":1}`, c("w2"), `{`+ts+`,"ok":1}`)
	if it := item(t, r, 0); it["status"] != float64(400) {
		t.Errorf("whitespace-only name through _bulk: got %v, want 400", it)
	}
	if it := item(t, r, 1); it["status"] != float64(201) {
		t.Errorf("its neighbour: got %v, want 201", it)
	}
}

func TestCreateRejectsALineBreak(t *testing.T) {
	s := New(t)
	if err := s.Create("logs-a-b", []byte("{\"@timestamp\":\"2026-01-01T00:00:00Z\",\n\"a\":1}\n")); err == nil {
		t.Fatal("got a document with a raw line break stored, want it refused")
	}
	if err := s.Create("logs-a-b", []byte("{\"@timestamp\":\"2026-01-01T00:00:00Z\"}\n")); err != nil {
		t.Fatalf("one trailing newline: got %v, want the document stored", err)
	}
}
