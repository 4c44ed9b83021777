package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/glassbox-obs/glassbox/internal/sentrytest"
	"github.com/glassbox-obs/glassbox/internal/story"
	"github.com/glassbox-obs/glassbox/internal/testutil"
)

// row is one request line of the example's output.
type row struct {
	n      int
	status int // 0: no answer
	id     string
	what   string
}

// checkout is one run of the example.
type checkout struct {
	dir      string
	out      string
	rows     []row
	commands [][]string // the printed trace commands, after "go run ./cmd/glassbox"
}

var (
	rowRE     = regexp.MustCompile(`^ *(\d+)  POST /checkout +(\d+|-) +\S+  ([0-9a-f]{32})  (.+)$`)
	commandRE = regexp.MustCompile(`^    go run \./cmd/glassbox (trace .+)$`)
)

// runCheckout runs the example as `go run ./examples/checkout` would, with
// no pause between requests, in an environment where only vars name a
// backend.
func runCheckout(t *testing.T, vars map[string]string, args ...string) *checkout {
	t.Helper()
	c, stderr, err := runCheckoutErr(t, vars, args...)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	if stderr != "" {
		t.Errorf("stderr: %s, want nothing", stderr)
	}
	return c
}

// runCheckoutErr is runCheckout for a run that may fail: it returns the
// run's error and what it wrote on stderr.
func runCheckoutErr(t *testing.T, vars map[string]string, args ...string) (_ *checkout, stderr string, _ error) {
	t.Helper()
	for _, k := range []string{"ELASTICSEARCH_URL", "ELASTICSEARCH_CLOUD_ID", "OTEL_EXPORTER_OTLP_ENDPOINT",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "OTEL_TRACES_EXPORTER",
		"OTEL_LOGS_EXPORTER", "OTEL_EXPORTER_OTLP_PROTOCOL", "SENTRY_DSN", "GLASSBOX_FILE_DIR", "GLASSBOX_KIBANA_URL",
		"GLASSBOX_ELASTICSEARCH_TEMPLATES", "GLASSBOX_SPOOL_DIR"} {
		t.Setenv(k, vars[k])
	}
	c := &checkout{dir: t.TempDir()}
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"--dir", c.dir, "--interval", "0"}, args...), &out, &errb)
	c.out = out.String()
	sc := bufio.NewScanner(strings.NewReader(c.out))
	for sc.Scan() {
		if m := rowRE.FindStringSubmatch(sc.Text()); m != nil {
			n, _ := strconv.Atoi(m[1])
			st, _ := strconv.Atoi(m[2])
			c.rows = append(c.rows, row{n: n, status: st, id: m[3], what: m[4]})
		}
		if m := commandRE.FindStringSubmatch(sc.Text()); m != nil {
			c.commands = append(c.commands, strings.Fields(m[1]))
		}
	}
	return c, errb.String(), err
}

// row returns the request of the kind whose name starts with prefix.
func (c *checkout) row(t *testing.T, prefix string) row {
	t.Helper()
	for _, r := range c.rows {
		if strings.HasPrefix(r.what, prefix) {
			return r
		}
	}
	t.Fatalf("no request %q in the output:\n%s", prefix, c.out)
	return row{}
}

// documents reads every document of dir, failing the test on a line that
// is not a JSON object with a correlation.id; it returns them by
// correlation ID.
func documents(t *testing.T, dir string) map[string][]map[string]any {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	byID := map[string][]map[string]any{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
			var d map[string]any
			if err := json.Unmarshal(line, &d); err != nil {
				t.Errorf("%s:%d: not JSON (%v): %.200s", filepath.Base(f), i+1, err, line)
				continue
			}
			id, _ := d["correlation.id"].(string)
			if id == "" {
				t.Errorf("%s:%d: no correlation.id: %.300s", filepath.Base(f), i+1, line)
			}
			byID[id] = append(byID[id], d)
		}
	}
	return byID
}

// buildCLI builds ./cmd/glassbox as `go run` would and returns the binary.
func buildCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "glassbox")
	args := []string{"build", "-o", bin}
	if testutil.RaceEnabled {
		args = append(args, "-race")
	}
	if out, err := testutil.GoCommand(t, testutil.ModuleRoot(t), nil, append(args, "./cmd/glassbox")...).CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/glassbox: %v\n%s", err, out)
	}
	return bin
}

// cli runs the glassbox CLI with args and NO_COLOR and returns its stdout; it
// fails the test unless the exit status is 0.
func cli(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "COLUMNS=100")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("glassbox %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

// traceJSON is `glassbox trace --json --dir dir id`, decoded.
func traceJSON(t *testing.T, bin, dir, id string) *story.JSON {
	t.Helper()
	var j story.JSON
	if err := json.Unmarshal([]byte(cli(t, bin, "trace", "--json", "--dir", dir, id)), &j); err != nil {
		t.Fatalf("trace --json %s: %v", id, err)
	}
	return &j
}

// nodes returns the story's spans as "service name status" with whether
// each failed.
func nodes(j *story.JSON) map[string]bool {
	out := map[string]bool{}
	var walk func(n story.JSONNode)
	walk = func(n story.JSONNode) {
		k := n.Service + " " + n.Name + " " + n.Status
		out[k] = out[k] || n.Failed
		for _, c := range n.Children {
			walk(c)
		}
	}
	for _, tr := range j.Tree {
		for _, r := range tr.Roots {
			walk(r)
		}
	}
	return out
}

// logs decodes the story's log lines.
func logs(t *testing.T, j *story.JSON) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, raw := range j.Logs {
		var d map[string]any
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

func serviceNames(j *story.JSON) []string {
	var names []string
	for _, sv := range j.Services {
		if sv.Logs > 0 {
			names = append(names, sv.Name)
		}
	}
	return names
}

// sameStory blanks what differs between two lookups of one story: the ID
// asked for and the field it matched.
func sameStory(a, b *story.JSON) bool {
	x, y := *a, *b
	x.ID, x.Kind, y.ID, y.Kind = "", "", "", ""
	return reflect.DeepEqual(x, y)
}

// failures are the seeded failures and what their stories must show.
var failures = []struct {
	kind   string // the start of the kind's name in the output
	status int
	// failedSpans must be in the story, failed ("service span status").
	failedSpans []string
	// errorLog is the error line that names the root cause.
	errService, errMessage, errText string
	// crashSite is the file whose line the error's stack starts at.
	crashSite string
	// services are those with log lines: every one on the request's path.
	services []string
}{
	{
		kind: "payments panics", status: 502,
		failedSpans: []string{"frontend POST /checkout 502", "frontend payments.Payments/Charge Internal", "payments payments.Payments/Charge Internal"},
		errService:  "payments", errMessage: "panic recovered", errText: "nil pointer dereference", crashSite: "payments.go:",
		services: []string{"frontend", "payments"},
	},
	{
		kind: "ledger refuses the entry", status: 502,
		failedSpans: []string{"frontend POST /checkout 502", "payments payments.Payments/Charge Internal", "payments POST 500", "ledger POST /entries 500", "ledger INSERT ledger_entries error"},
		errService:  "ledger", errMessage: "entry not booked", errText: `violates check constraint "amount_positive"`, crashSite: "ledger.go:",
		services: []string{"frontend", "payments", "ledger"},
	},
	{
		kind: "ledger too slow", status: 504,
		failedSpans: []string{"frontend POST /checkout 504", "frontend payments.Payments/Charge DeadlineExceeded", "ledger SELECT accounts FOR UPDATE error"},
		errService:  "frontend", errMessage: "payment failed", errText: "DeadlineExceeded", crashSite: "frontend.go:",
		services: []string{"frontend", "payments", "ledger"},
	},
}

// TestCheckoutStories is the example's CI check. It runs the example in
// its short mode with Sentry on (SENTRY_DSN at the test server, so the
// records of failed requests carry error.id), then, with the glassbox
// CLI built from ./cmd/glassbox as `go run` builds it:
//   - every document the three services wrote is JSON with correlation.id;
//   - every trace command the example printed works as printed;
//   - for each seeded failure, `glassbox trace --dir` finds the failing
//     spans, the error that names the root cause (with the stack of its
//     crash site), and log lines of every service on the request's path,
//     and no other;
//   - the request's other trace IDs and its Sentry event IDs lead to the
//     same story as its correlation ID;
//   - the request with bad input is a 4xx story without a failure.
func TestCheckoutStories(t *testing.T) {
	sentrySrv := sentrytest.NewServer(t)
	c := runCheckout(t, map[string]string{"SENTRY_DSN": sentrySrv.DSN()})
	docs := documents(t, c.dir)
	bin := buildCLI(t)
	if len(c.rows) != len(schedule()) {
		t.Fatalf("%d request lines, want %d:\n%s", len(c.rows), len(schedule()), c.out)
	}
	for _, r := range c.rows {
		if len(docs[r.id]) == 0 {
			t.Errorf("request %d (X-Correlation-ID %s): no document carries its ID", r.n, r.id)
		}
	}
	events := map[string]map[string]any{}
	for _, ev := range sentrySrv.Events() {
		id, _ := ev["event_id"].(string)
		events[id] = ev
	}

	printed := map[string]bool{}
	for _, args := range c.commands {
		id := args[len(args)-1]
		printed[id] = true
		if out := cli(t, bin, args...); !strings.HasPrefix(out, "Story of "+id+" (correlation ID)\n") {
			t.Errorf("glassbox %s:\n%s\nwant the story of %s", strings.Join(args, " "), out, id)
		}
	}
	if len(c.commands) != len(failures) {
		t.Errorf("%d trace commands printed, want one per failed request (%d):\n%s", len(c.commands), len(failures), c.out)
	}

	for _, f := range failures {
		t.Run(f.kind, func(t *testing.T) {
			r := c.row(t, f.kind)
			if r.status != f.status || !printed[r.id] {
				t.Errorf("status %d, trace command printed: %v; want %d and the command", r.status, printed[r.id], f.status)
			}
			j := traceJSON(t, bin, c.dir, r.id)
			if j.Kind != story.KindCorrelation || !slices.Equal(j.CorrelationIDs, []string{r.id}) {
				t.Errorf("found as %s, correlation IDs %v; want the correlation ID %s alone", j.Kind, j.CorrelationIDs, r.id)
			}
			spans := nodes(j)
			for _, s := range f.failedSpans {
				if !spans[s] {
					t.Errorf("no failed span %q in the story; spans: %v", s, spans)
				}
			}
			if got := serviceNames(j); !slices.Equal(got, f.services) {
				t.Errorf("services with log lines: %v, want %v", got, f.services)
			}
			lines := logs(t, j)
			checkCause(t, lines, f.errService, f.errMessage, f.errText, f.crashSite)
			term := cli(t, bin, "trace", "--dir", c.dir, r.id)
			if !strings.Contains(term, f.errMessage) || !strings.Contains(term, "✗ "+strconv.Itoa(f.status)) {
				t.Errorf("the terminal story does not show %q and the failed %d:\n%s", f.errMessage, f.status, term)
			}
			if !crashSiteRE(f.crashSite).MatchString(term) {
				t.Errorf("the terminal story does not show the crash site in %s (at <function> (…%s<line>)):\n%s", f.crashSite, f.crashSite, term)
			}
			checkOtherIDs(t, bin, c.dir, r.id, j, lines, events)
		})
	}

	t.Run("bad input", func(t *testing.T) {
		r := c.row(t, "bad input")
		if r.status != 400 || printed[r.id] {
			t.Errorf("status %d, listed as failed: %v; want 400, not listed", r.status, printed[r.id])
		}
		j := traceJSON(t, bin, c.dir, r.id)
		if !slices.Equal(serviceNames(j), []string{"frontend"}) || j.Counts.FailedSpans != 0 || j.Counts.ErrorLogs != 0 {
			t.Errorf("services %v, counts %+v; want frontend alone, nothing failed, no error line", serviceNames(j), j.Counts)
		}
		if failed, ok := nodes(j)["frontend POST /checkout 400"]; !ok || failed {
			t.Errorf("spans %v, want POST /checkout 400, not failed", nodes(j))
		}
		warned := false
		for _, l := range logs(t, j) {
			warned = warned || (l["message"] == "order rejected" && l["log.level"] == "warn" && l["reason"] == "empty cart")
		}
		if !warned {
			t.Errorf("no warning saying why the order was rejected: %s", j.Logs)
		}
	})
}

// crashSiteRE matches the line glassbox trace prints under an error with
// a stack: "at <function> (<path>/checkout/<file>:<line>)", the function
// in package main (in this test binary, the example's import path).
func crashSiteRE(file string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^\s+at (main|\S*checkout)\.\S+ \(\S*checkout/` + regexp.QuoteMeta(file) + `\d+\)$`)
}

// checkCause finds the error line that names the root cause: at level
// error, from service, with message, error.message containing text and
// the stack starting at crashSite (file:line of the example).
func checkCause(t *testing.T, lines []map[string]any, service, message, text, crashSite string) {
	t.Helper()
	for _, l := range lines {
		if l["service.name"] != service || l["message"] != message || l["log.level"] != "error" {
			continue
		}
		msg, _ := l["error.message"].(string)
		stack, _ := l["error.stack_trace"].(string)
		if !strings.Contains(msg, text) {
			t.Errorf("%s %q: error.message %q, want it to say %q", service, message, msg, text)
		}
		if !strings.Contains(stack, "examples/checkout/"+crashSite) {
			t.Errorf("%s %q: the stack does not name the crash site %s:\n%s", service, message, crashSite, stack)
		}
		return
	}
	t.Errorf("no error line %q from %s in the story", message, service)
}

// checkOtherIDs: each other trace ID of the request (the email job's) and
// each Sentry event ID its records carry lead to the same story as its
// correlation ID id. An event of an aggregation window stands for every
// request it aggregated: its story holds this one's and others'. Each
// failed request has at least one event of its own.
func checkOtherIDs(t *testing.T, bin, dir, id string, j *story.JSON, lines []map[string]any, events map[string]map[string]any) {
	t.Helper()
	traces := 0
	for _, tid := range j.TraceIDs {
		if tid == id {
			continue
		}
		traces++
		if other := traceJSON(t, bin, dir, tid); other.Kind != story.KindTrace || !sameStory(j, other) {
			t.Errorf("trace ID %s: found as %s, correlation IDs %v; want the same story as %s", tid, other.Kind, other.CorrelationIDs, id)
		}
	}
	if traces == 0 {
		t.Errorf("traces %v: want the email job's trace besides the request's", j.TraceIDs)
	}
	own, seen := 0, map[string]bool{}
	for _, l := range lines {
		eid, _ := l["error.id"].(string)
		if eid == "" || seen[eid] {
			continue
		}
		seen[eid] = true
		ev := events[eid]
		if ev == nil {
			t.Errorf("error.id %s: Sentry received no event with this ID", eid)
			continue
		}
		other := traceJSON(t, bin, dir, eid)
		if other.Kind != story.KindError {
			t.Errorf("Sentry event ID %s: found as %s", eid, other.Kind)
		}
		if !slices.Equal(other.CorrelationIDs, []string{id}) {
			if !containsStory(other, j) {
				t.Errorf("Sentry event ID %s (aggregated, correlation IDs %v): the story lacks documents of %s", eid, other.CorrelationIDs, id)
			}
			continue
		}
		own++
		if !sameStory(j, other) {
			t.Errorf("Sentry event ID %s: the story differs from the correlation ID's", eid)
		}
		if tag(ev, "correlation_id") != id {
			t.Errorf("Sentry event %s: tag correlation_id %q, want %s", eid, tag(ev, "correlation_id"), id)
		}
	}
	if own == 0 {
		t.Errorf("error.ids %v: none is an event of this request alone", seen)
	}
}

// containsStory reports whether every document of inner is in outer.
func containsStory(outer, inner *story.JSON) bool {
	have := map[string]bool{}
	for _, raw := range append(append([]json.RawMessage(nil), outer.Spans...), outer.Logs...) {
		have[string(raw)] = true
	}
	for _, raw := range append(append([]json.RawMessage(nil), inner.Spans...), inner.Logs...) {
		if !have[string(raw)] {
			return false
		}
	}
	return true
}

// tag returns a tag of a Sentry event (an object or a list of pairs).
func tag(ev map[string]any, key string) string {
	switch tags := ev["tags"].(type) {
	case map[string]any:
		s, _ := tags[key].(string)
		return s
	case []any:
		for _, p := range tags {
			if pair, ok := p.([]any); ok && len(pair) == 2 && pair[0] == key {
				s, _ := pair[1].(string)
				return s
			}
		}
	}
	return ""
}
