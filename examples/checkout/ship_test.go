package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"

	"github.com/glassbox-obs/glassbox/internal/estest"
	"github.com/glassbox-obs/glassbox/internal/otlptest"
	"github.com/glassbox-obs/glassbox/internal/story"
	"github.com/glassbox-obs/glassbox/internal/testutil"
)

var shopServices = []string{"frontend", "payments", "ledger"}

// TestCheckoutShips runs the example in its short mode as the README's
// "With Elasticsearch" part does — ELASTICSEARCH_URL at the project's
// strict Elasticsearch test server, with the exporter installing the
// shipped templates — and with OTEL_EXPORTER_OTLP_ENDPOINT at the OTLP
// test collector, over each protocol. What a user would notice:
//   - every service's logs and spans are in Elasticsearch, in the data
//     streams logs-<service>-default and traces-<service>-default mapped by
//     glassbox's templates, each document with correlation.id, and they
//     are the very documents of the local files, no more, no fewer;
//   - for each seeded failure, `glassbox trace <ID>` without --dir (as the
//     README runs it) finds in Elasticsearch the same story as from the
//     files: the failing spans and log lines of every service on the
//     request's path;
//   - the collector got spans and log records of all three services, each
//     with correlation.id, as many as the files hold;
//   - the summary says how much each backend took and nothing was
//     rejected (no dead-letter file) or dropped.
func TestCheckoutShips(t *testing.T) {
	bin := buildCLI(t)
	for _, proto := range []string{"http/protobuf", "grpc"} {
		t.Run(strings.ReplaceAll(proto, "/", "_"), func(t *testing.T) {
			es := estest.New(t)
			col := otlptest.NewHTTP(t)
			if proto == "grpc" {
				col = otlptest.NewGRPC(t)
			}
			// A document Elasticsearch rejects goes to the dead-letter
			// file, by default in os.TempDir(): here, a directory of the
			// test's own.
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			vars := map[string]string{
				"ELASTICSEARCH_URL":                es.URL(),
				"GLASSBOX_ELASTICSEARCH_TEMPLATES": "true",
				"OTEL_EXPORTER_OTLP_ENDPOINT":      col.Endpoint(),
				"OTEL_EXPORTER_OTLP_PROTOCOL":      proto,
			}
			checkREADMECommands(t, vars)
			c := runCheckout(t, vars)
			files := fileDocs(t, c.dir)
			if len(c.rows) != len(schedule()) {
				t.Fatalf("%d request lines, want %d:\n%s", len(c.rows), len(schedule()), c.out)
			}
			if dl, _ := filepath.Glob(filepath.Join(tmp, "*dead-letter*")); len(dl) > 0 {
				b, _ := os.ReadFile(dl[0])
				t.Errorf("Elasticsearch rejected documents (%s):\n%.2000s", dl[0], b)
			}
			checkSummary(t, c.out, files)
			checkElasticsearch(t, es, files)
			checkCollector(t, col, files)

			refresh(t, es)
			for _, f := range failures {
				t.Run(f.kind, func(t *testing.T) {
					r := c.row(t, f.kind)
					fromES := traceES(t, bin, r.id)
					if !strings.HasPrefix(fromES.Source, "Elasticsearch at "+es.URL()) {
						t.Errorf("glassbox trace %s searched %q, want Elasticsearch at %s", r.id, fromES.Source, es.URL())
					}
					if got := serviceNames(fromES); !slices.Equal(got, f.services) {
						t.Errorf("services with log lines in Elasticsearch: %v, want %v", got, f.services)
					}
					spans := nodes(fromES)
					for _, s := range f.failedSpans {
						if !spans[s] {
							t.Errorf("no failed span %q in Elasticsearch; spans: %v", s, spans)
						}
					}
					if f.kind == "payments panics" && proto == "http/protobuf" {
						t.Setenv("GLASSBOX_KIBANA_URL", "https://kibana.example.com:5601")
						checkREADMEStory(t, cli(t, bin, "trace", r.id), es.URL(), r.id)
					}
					if fromDir := traceJSON(t, bin, c.dir, r.id); !sameSource(fromES, fromDir) {
						t.Errorf("the story from Elasticsearch (%d spans, %d logs) differs from the files' (%d spans, %d logs)",
							len(fromES.Spans), len(fromES.Logs), len(fromDir.Spans), len(fromDir.Logs))
					}
				})
			}
		})
	}
}

// fileDoc is one document of the local files: its bytes, decoded.
type fileDoc struct {
	stream string // the file's name without .ndjson: the data stream
	raw    string
	doc    map[string]any
}

// fileDocs reads the local files (checking them as documents does).
func fileDocs(t *testing.T, dir string) []fileDoc {
	t.Helper()
	documents(t, dir)
	paths, _ := filepath.Glob(filepath.Join(dir, "*.ndjson"))
	var out []fileDoc
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			var d map[string]any
			_ = json.Unmarshal([]byte(line), &d) // documents reported a line that is not JSON
			out = append(out, fileDoc{stream: strings.TrimSuffix(filepath.Base(p), ".ndjson"), raw: line, doc: d})
		}
	}
	return out
}

// count returns how many documents of docs are in the data stream named
// kind-service-default.
func count(docs []fileDoc, kind, service string) int {
	n := 0
	for _, d := range docs {
		if d.stream == kind+"-"+service+"-default" {
			n++
		}
	}
	return n
}

// checkElasticsearch: Elasticsearch holds the files' documents, byte for
// byte, in the data streams the README names, mapped by the templates.
func checkElasticsearch(t *testing.T, es *estest.Server, files []fileDoc) {
	t.Helper()
	want := map[string]int{}
	for _, d := range files {
		want[d.stream+" "+d.raw]++
	}
	streams := map[string]int{}
	for _, d := range es.Docs("*") {
		streams[d.Index]++
		var doc map[string]any
		if err := json.Unmarshal(d.Source, &doc); err != nil {
			t.Errorf("%s: not JSON: %v", d.Index, err)
		}
		if id, _ := doc["correlation.id"].(string); id == "" {
			t.Errorf("%s: a document without correlation.id: %.300s", d.Index, d.Source)
		}
		leaves := flatten(doc)
		for _, f := range d.Ignored {
			// A keyword over ignore_above (1024) is kept in _source but
			// not indexed, by design (a span event's stack trace); any
			// other field left out is a value the mapping could not take.
			for _, v := range leaves[f] {
				if s, _ := v.(string); len(s) <= 1024 {
					t.Errorf("%s: field %s not indexed (_ignored): %.300s", d.Index, f, d.Source)
				}
			}
		}
		k := d.Index + " " + string(d.Source)
		if want[k] == 0 {
			t.Errorf("%s: a document the files do not have: %.300s", d.Index, d.Source)
			continue
		}
		want[k]--
	}
	for k, n := range want {
		if n > 0 {
			t.Errorf("a document of the files is not in Elasticsearch: %.300s", k)
		}
	}
	var names []string
	for _, svc := range shopServices {
		for _, kind := range []string{"logs", "traces"} {
			name := kind + "-" + svc + "-default"
			names = append(names, name)
			if streams[name] == 0 {
				t.Errorf("data stream %s: no document", name)
			}
			if m := es.Mapping(name); m["correlation.id"] != "keyword" {
				t.Errorf("data stream %s: correlation.id mapped as %q, want keyword (glassbox's templates)", name, m["correlation.id"])
			}
		}
	}
	for name := range streams {
		if !slices.Contains(names, name) {
			t.Errorf("documents in %s, want only %v", name, names)
		}
	}
}

// flatten returns the leaves of doc by dotted path, as Elasticsearch
// names fields: objects' keys joined with dots, arrays' values under their
// field's name.
func flatten(doc map[string]any) map[string][]any {
	out := map[string][]any{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				walk(path+"."+k, x)
			}
		case []any:
			for _, x := range v {
				walk(path, x)
			}
		default:
			out[path] = append(out[path], v)
		}
	}
	for k, v := range doc {
		walk(k, v)
	}
	return out
}

// checkCollector: the collector got every service's spans and log
// records, as many as the files hold, each with correlation.id.
func checkCollector(t *testing.T, col *otlptest.Server, files []fileDoc) {
	t.Helper()
	spans, logs := map[string]int{}, map[string]int{}
	for _, s := range col.Spans() {
		svc := attr(s.Resource.GetAttributes(), "service.name")
		spans[svc]++
		if attr(s.Span.GetAttributes(), "correlation.id") == "" {
			t.Errorf("%s: span %q without correlation.id", svc, s.Span.GetName())
		}
	}
	for _, l := range col.Logs() {
		svc := attr(l.Resource.GetAttributes(), "service.name")
		logs[svc]++
		if attr(l.Record.GetAttributes(), "correlation.id") == "" {
			t.Errorf("%s: log record %q without correlation.id", svc, l.Record.GetBody().GetStringValue())
		}
	}
	for _, svc := range shopServices {
		if want := count(files, "traces", svc); spans[svc] != want || want == 0 {
			t.Errorf("%s: the collector got %d spans, the files hold %d", svc, spans[svc], want)
		}
		if want := count(files, "logs", svc); logs[svc] != want || want == 0 {
			t.Errorf("%s: the collector got %d log records, the files hold %d", svc, logs[svc], want)
		}
	}
}

// attr returns the string value of the attribute key, or "".
func attr(kvs []*commonpb.KeyValue, key string) string {
	for _, kv := range kvs {
		if kv.GetKey() == key {
			return kv.GetValue().GetStringValue()
		}
	}
	return ""
}

// summaryRE matches the summary's lines about the backends.
var (
	esSummaryRE   = regexp.MustCompile(`(?m)^Elasticsearch took (\d+) of (\d+) documents(.*)$`)
	otlpSummaryRE = regexp.MustCompile(`(?m)^The OTLP endpoint took (\d+) of (\d+) spans and (\d+) of (\d+) log records(.*)$`)
)

// checkSummary: the summary says each backend took every document the
// files hold, and no more is said (nothing rejected or dropped).
func checkSummary(t *testing.T, out string, files []fileDoc) {
	t.Helper()
	var spans, logs int
	for _, svc := range shopServices {
		spans += count(files, "traces", svc)
		logs += count(files, "logs", svc)
	}
	all := strconv.Itoa(spans + logs)
	if m := esSummaryRE.FindStringSubmatch(out); m == nil || m[1] != all || m[2] != all || m[3] != "." {
		t.Errorf("want the summary to say \"Elasticsearch took %s of %s documents.\":\n%s", all, all, out)
	}
	s, l := strconv.Itoa(spans), strconv.Itoa(logs)
	if m := otlpSummaryRE.FindStringSubmatch(out); m == nil || m[1] != s || m[2] != s || m[3] != l || m[4] != l || m[5] != "." {
		t.Errorf("want the summary to say \"The OTLP endpoint took %s of %s spans and %s of %s log records.\":\n%s", s, s, l, l, out)
	}
}

// refresh makes what was indexed searchable, as Elasticsearch does every
// second by itself.
func refresh(t *testing.T, es *estest.Server) {
	t.Helper()
	res, err := http.Post(es.URL()+"/logs-*,traces-*/_refresh", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("refresh: HTTP %d", res.StatusCode)
	}
}

// traceES is `glassbox trace --json id` with ELASTICSEARCH_URL set (by
// runCheckout), decoded: the README's command.
func traceES(t *testing.T, bin, id string) *story.JSON {
	t.Helper()
	var j story.JSON
	if err := json.Unmarshal([]byte(cli(t, bin, "trace", "--json", id)), &j); err != nil {
		t.Fatalf("trace --json %s: %v", id, err)
	}
	return &j
}

// sameSource reports whether two lookups of one ID in different sources
// tell the same story, with the same documents.
func sameSource(a, b *story.JSON) bool {
	x, y := *a, *b
	x.Source, x.Since, x.Until, y.Source, y.Since, y.Until = "", nil, nil, "", nil, nil
	return sameStory(&x, &y)
}

// TestCheckoutBackendsDown: with ELASTICSEARCH_URL and
// OTEL_EXPORTER_OTLP_ENDPOINT set but neither answering, the run still
// ends with its summary — every request's documents in the local files,
// the trace command of each failed request — and the summary says the
// backends took nothing instead of claiming the documents went there.
func TestCheckoutBackendsDown(t *testing.T) {
	es := estest.New(t)
	if err := es.SetRefused(true); err != nil {
		t.Fatal(err)
	}
	col := otlptest.NewHTTP(t)
	col.Close()
	t.Setenv("TMPDIR", t.TempDir())
	c, stderr, err := runCheckoutErr(t, map[string]string{"ELASTICSEARCH_URL": es.URL(), "OTEL_EXPORTER_OTLP_ENDPOINT": col.Endpoint()})
	if err != nil && strings.Count(err.Error(), "\n") > 2 {
		t.Errorf("a wall of errors:\n%v", err)
	}
	t.Logf("error: %v\nstderr:\n%s", err, stderr)
	files := fileDocs(t, c.dir)
	docs := documents(t, c.dir)
	for _, r := range c.rows {
		if len(docs[r.id]) == 0 {
			t.Errorf("request %d (X-Correlation-ID %s): no document in the files", r.n, r.id)
		}
	}
	if len(c.rows) != len(schedule()) || len(c.commands) != len(failures) {
		t.Errorf("%d requests and %d trace commands, want %d and %d:\n%s", len(c.rows), len(c.commands), len(schedule()), len(failures), c.out)
	}
	var spans, logs int
	for _, svc := range shopServices {
		spans += count(files, "traces", svc)
		logs += count(files, "logs", svc)
	}
	if m := esSummaryRE.FindStringSubmatch(c.out); m == nil || m[1] != "0" || m[2] != strconv.Itoa(spans+logs) || !strings.Contains(m[3], "dropped") {
		t.Errorf("want the summary to say \"Elasticsearch took 0 of %d documents: ... dropped\":\n%s", spans+logs, c.out)
	}
	if m := otlpSummaryRE.FindStringSubmatch(c.out); m == nil || m[1] != "0" || m[2] != strconv.Itoa(spans) || m[3] != "0" || m[4] != strconv.Itoa(logs) || !strings.Contains(m[5], "dropped") {
		t.Errorf("want the summary to say \"The OTLP endpoint took 0 of %d spans and 0 of %d log records: ... dropped\":\n%s", spans, logs, c.out)
	}
	if strings.Contains(c.out, "From Elasticsearch") {
		t.Errorf("the summary sends the user to Elasticsearch, which has nothing:\n%s", c.out)
	}
}

// readmeWithES returns the README's "With Elasticsearch" part of
// "Debugging a failed request": its prose, its commands and the story it
// shows.
func readmeWithES(t *testing.T) (prose string, commands, story []string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testutil.ModuleRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, part, ok := strings.Cut(string(b), "\n## Debugging a failed request\n")
	part, _, _ = strings.Cut(part, "\n## ")
	_, part, ok2 := strings.Cut(part, "\n### With Elasticsearch\n")
	prose, rest, ok3 := strings.Cut(part, "```sh\n")
	cmds, rest, _ := strings.Cut(rest, "```")
	_, rest, _ = strings.Cut(rest, "```\n")
	out, _, ok4 := strings.Cut(rest, "```")
	if !ok || !ok2 || !ok3 || !ok4 {
		t.Fatal("README.md: no \"With Elasticsearch\" part with a command block and an output block under \"## Debugging a failed request\"")
	}
	return prose, strings.Split(strings.TrimSpace(cmds), "\n"), strings.Split(out, "\n")
}

// checkREADMECommands: the README runs the example with the variables
// this test sets for Elasticsearch, and names the data streams the test
// finds the documents in.
func checkREADMECommands(t *testing.T, vars map[string]string) {
	t.Helper()
	prose, cmds, _ := readmeWithES(t)
	if len(cmds) != 3 || !strings.HasPrefix(cmds[0], "export ") || cmds[1] != "go run ./examples/checkout" ||
		!regexp.MustCompile(`^GLASSBOX_KIBANA_URL=\S+ go run ./cmd/glassbox trace [0-9a-f]{32}$`).MatchString(cmds[2]) {
		t.Fatalf("README \"With Elasticsearch\": commands %q, want an export, the example, glassbox trace <ID>", cmds)
	}
	for _, kv := range strings.Fields(strings.TrimPrefix(cmds[0], "export ")) {
		k, v, _ := strings.Cut(kv, "=")
		if _, ok := vars[k]; !ok || (k != "ELASTICSEARCH_URL" && vars[k] != v) {
			t.Errorf("README \"With Elasticsearch\" exports %s, the test sets %v", kv, vars)
		}
	}
	for _, name := range []string{"`logs-<service>-default`", "`traces-<service>-default`", "`logs-frontend-default`", "`traces-ledger-default`"} {
		if !strings.Contains(prose, name) {
			t.Errorf("README \"With Elasticsearch\" does not name the data stream %s", name)
		}
	}
}

// checkREADMEStory: the story the README shows from Elasticsearch has the
// header of the real one (the panic's, with GLASSBOX_KIBANA_URL set), but
// for the address, the ID and the times.
func checkREADMEStory(t *testing.T, term, esURL, id string) {
	t.Helper()
	_, cmds, readme := readmeWithES(t)
	readmeID := cmds[2][strings.LastIndex(cmds[2], " ")+1:]
	readmeURL := strings.Fields(strings.TrimPrefix(cmds[0], "export ELASTICSEARCH_URL="))[0]
	times := regexp.MustCompile(`\d{4}-\d\d-\d\d[T ][0-9:.]+(Z| UTC)|\+?[0-9.]+(ms|µs|s)\b`)
	header := func(lines []string) map[string]string {
		out := map[string]string{}
		for _, l := range lines {
			f := strings.Fields(l)
			if len(f) > 1 && slices.Contains([]string{"source", "services", "found", "kibana"}, f[0]) {
				out[f[0]] = times.ReplaceAllString(strings.TrimSpace(l), "T")
			}
		}
		return out
	}
	got := header(strings.Split(strings.NewReplacer(esURL, readmeURL, id, readmeID).Replace(term), "\n"))
	want := header(readme)
	if len(want) != 4 {
		t.Fatalf("README \"With Elasticsearch\": the story shows %v, want its source, services, found and kibana lines", want)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("README \"With Elasticsearch\" shows\n  %s\nglassbox trace says\n  %s", w, got[k])
		}
	}
}
