package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/glassbox-obs/glassbox/internal/story"
	"github.com/glassbox-obs/glassbox/trace"
)

const traceHelp = `Trace finds every log line and span of one request, across services and
traces, and shows them as one waterfall: each service's spans on a shared
timeline with the critical path, every log line under the span it was
written in, errors with their Sentry event IDs and crash sites, and the
time each service spent.

A crash site is the first frame of an error's stack (error.stack_trace)
that is the application's own code: below the panic, and not in the Go
standard library (runtime, net/http, ...), gRPC, go-grpc-middleware,
OpenTelemetry, glassbox's SDK packages or a dependency (a file in the
module cache or a vendor directory). It is shown as "at <function>
(<file>:<line>)" under the error; the page of --html holds the whole stack
in the details of the span.

The ID may be a correlation ID (the X-Correlation-ID response header, the
Sentry tag correlation_id), a trace ID or a Sentry event ID (error.id): trace
follows it to every correlation ID and trace of the request.

An ID may stand for more than one request: within the Sentry exporter's
aggregation window, repeats of a failure are reported with the first
event's ID, which every repeat's records then carry. The header then says
how many requests the ID stands for, and each request (correlation ID) is
shown on its own timeline, oldest first (the first is the one the event
was reported for); --json lists them under "requests".

Documents come from local files or from Elasticsearch:

  --dir, --file           NDJSON files written by exporter/file (the services'
                          GLASSBOX_FILE_DIR) or JSON console logs; "-" is stdin
  GLASSBOX_FILE_DIR       used as --dir when no flag names a source
  ELASTICSEARCH_URL       otherwise: the cluster the services ship to, with
                          ELASTICSEARCH_API_KEY, or ELASTICSEARCH_USERNAME and
                          ELASTICSEARCH_PASSWORD, and ELASTICSEARCH_CA_CERT
                          (ELASTICSEARCH_CLOUD_ID instead of the URL)

Output is for a terminal (NO_COLOR and --color, COLUMNS and --width are
honoured); --json writes a machine-readable document instead (the documents
as stored, and the span tree by index) and --html a self-contained page.
With GLASSBOX_KIBANA_URL set, the story links to Kibana Discover.

Examples:

	glassbox trace --dir ./glassbox-data 4bf92f3577b34da6a3ce929d0e0e4736
	glassbox trace ticket-4711 --html story.html
	ELASTICSEARCH_URL=https://es.internal:9200 glassbox trace --since 72h ticket-4711
	glassbox trace --json ticket-4711 | jq '.counts'
	kubectl logs deploy/checkout | glassbox trace --file - ticket-4711

Exit status: 0 when the request was found, 1 when no document carries the
ID (or Elasticsearch holds no glassbox data yet), 2 on a usage error or
when the files or Elasticsearch cannot be read.`

// traceOptions are the flags of "glassbox trace".
type traceOptions struct {
	dirs, files  []string
	since, until string
	limit        int
	index        string
	jsonOut      bool
	html         string
	width        int
	color        string
}

// traceCommand is "glassbox trace <id>".
func traceCommand() *command {
	return &command{
		name:  "trace",
		args:  "[flags] <id>",
		short: "show the story of one request: its spans and logs across services",
		long:  traceHelp,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) int {
			o := &traceOptions{}
			o.declare(fs)
			return func(ctx context.Context, e *env, args []string) int { return o.run(ctx, e, fs, args) }
		},
	}
}

func (o *traceOptions) declare(fs *flag.FlagSet) {
	fs.Func("dir", "read the *.ndjson files in `directory` (repeatable)", func(s string) error {
		o.dirs = append(o.dirs, s)
		return nil
	})
	fs.Func("file", "read a `file` of JSON lines, - for stdin (repeatable)", func(s string) error {
		o.files = append(o.files, s)
		return nil
	})
	fs.StringVar(&o.since, "since", "", "search from this `time`: a duration ago (90m, 24h, 7d) or a date (2006-01-02T15:04:05Z)\n(default 24h for Elasticsearch, everything for files)")
	fs.StringVar(&o.until, "until", "", "search up to this `time`, as for --since (default now)")
	fs.IntVar(&o.limit, "limit", 100000, "stop after `n` documents and say so (0: no limit)")
	fs.StringVar(&o.index, "index", story.DefaultIndex, "Elasticsearch index `pattern` to search")
	fs.BoolVar(&o.jsonOut, "json", false, "write the story as JSON on stdout instead of the waterfall")
	fs.StringVar(&o.html, "html", "", "write the story as a self-contained HTML page to `file` (- for stdout)")
	fs.IntVar(&o.width, "width", 0, "render `columns` wide (default: COLUMNS, the terminal's width, or 100)")
	fs.StringVar(&o.color, "color", "auto", "colour the waterfall: auto (terminal without NO_COLOR), always or never")
}

func (o *traceOptions) run(ctx context.Context, e *env, fs *flag.FlagSet, args []string) int {
	ids, err := interspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		usage(e.stdout, traceCommand(), []string{"glassbox"})
		return exitOK
	}
	if err == nil {
		err = o.check(ids)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "glassbox trace: %v\nRun 'glassbox help trace' for usage.\n", err)
		return exitUsage
	}
	req := story.Request{ID: ids[0], Limit: o.limit}
	src, cov, err := o.source(e, &req)
	if err != nil {
		return reportError(e, err)
	}
	if c, ok := src.(io.Closer); ok {
		defer c.Close()
	}
	res, err := story.Collect(ctx, src, req)
	if err != nil {
		return reportError(e, err)
	}
	if len(res.Docs) == 0 {
		notFound(e, res, cov)
		return exitNotFound
	}
	if res.Truncated {
		fmt.Fprintf(e.stderr, "glassbox trace: only the first %d documents are shown; raise --limit to see them all\n", o.limit)
	}
	return o.render(e, story.Build(res))
}

// interspersed parses flags that follow the ID ("trace <id> --html f"),
// returning the positional arguments.
func interspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for len(args) > 0 {
		if !strings.HasPrefix(args[0], "-") || args[0] == "-" {
			pos = append(pos, args[0])
			args = args[1:]
			continue
		}
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
	}
	return pos, nil
}

func (o *traceOptions) check(ids []string) error {
	switch {
	case len(ids) == 0:
		return errors.New("missing the ID: a correlation ID, trace ID or Sentry event ID")
	case len(ids) > 1:
		return fmt.Errorf("one ID at a time, got %d: %s", len(ids), strings.Join(quoteAll(ids), " "))
	case !trace.ValidCorrelationID(ids[0]):
		return fmt.Errorf("%q is not an ID: correlation IDs are 1 to 128 of A-Z a-z 0-9 . _ : -, trace and Sentry event IDs 32 hex digits", ids[0])
	case o.limit < 0:
		return errors.New("--limit must be 0 or more")
	case o.html == "-" && o.jsonOut:
		return errors.New("--html - and --json both write to stdout: give --html a file name")
	}
	switch o.color {
	case "auto", "always", "never":
	default:
		return fmt.Errorf("--color %q: want auto, always or never", o.color)
	}
	return nil
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}

// source picks where to search, in order: --dir/--file, GLASSBOX_FILE_DIR,
// ELASTICSEARCH_URL (or ELASTICSEARCH_CLOUD_ID). It sets req's window.
func (o *traceOptions) source(e *env, req *story.Request) (story.Source, func() story.Coverage, error) {
	now := time.Now()
	var err error
	if req.Since, err = parseWhen(o.since, now); err != nil {
		return nil, nil, usageError("--since: " + err.Error())
	}
	if req.Until, err = parseWhen(o.until, now); err != nil {
		return nil, nil, usageError("--until: " + err.Error())
	}
	dirs := o.dirs
	if len(dirs) == 0 && len(o.files) == 0 {
		if d := strings.TrimSpace(e.getenv("GLASSBOX_FILE_DIR")); d != "" && strings.TrimSpace(e.getenv("ELASTICSEARCH_URL")) == "" {
			dirs = []string{d}
		}
	}
	if len(dirs) > 0 || len(o.files) > 0 {
		f, err := story.OpenFiles(dirs, o.files, e.stdin)
		if err != nil {
			return nil, nil, err
		}
		return f, f.Coverage, nil
	}
	cfg, err := esConfig(e, o.index)
	if err != nil {
		return nil, nil, err
	}
	if req.Since.IsZero() {
		req.Since = now.Add(-24 * time.Hour)
	}
	if req.Until.IsZero() {
		req.Until = now
	}
	es, err := story.NewElasticsearch(cfg)
	if err != nil {
		return nil, nil, err
	}
	return es, nil, nil
}

// esConfig reads the variables the Elasticsearch exporter reads.
func esConfig(e *env, index string) (story.ESConfig, error) {
	cfg := story.ESConfig{
		CloudID:  strings.TrimSpace(e.getenv("ELASTICSEARCH_CLOUD_ID")),
		APIKey:   strings.TrimSpace(e.getenv("ELASTICSEARCH_API_KEY")),
		Username: e.getenv("ELASTICSEARCH_USERNAME"),
		Password: e.getenv("ELASTICSEARCH_PASSWORD"),
		Index:    index,
	}
	for _, a := range strings.Split(e.getenv("ELASTICSEARCH_URL"), ",") {
		if a = strings.TrimSpace(a); a != "" {
			cfg.Addresses = append(cfg.Addresses, a)
		}
	}
	if len(cfg.Addresses) == 0 && cfg.CloudID == "" {
		return cfg, usageError("no source: pass --dir DIR (the GLASSBOX_FILE_DIR your services write to) or --file FILE, or set ELASTICSEARCH_URL")
	}
	if p := strings.TrimSpace(e.getenv("ELASTICSEARCH_CA_CERT")); p != "" {
		pem, err := os.ReadFile(p)
		if err != nil {
			return cfg, &story.Error{Kind: story.ErrSource, Msg: "cannot read ELASTICSEARCH_CA_CERT " + p, Hint: "Point it at the cluster's CA certificate (PEM).", Err: err}
		}
		cfg.CACert = pem
	}
	return cfg, nil
}

// usageError is a mistake on the command line (exit 2, with a pointer to
// the help).
type usageError string

// Error returns the message.
func (u usageError) Error() string { return string(u) }

// parseWhen reads a --since/--until value: a duration ago ("90m", "7d")
// or a date and time (RFC 3339, or UTC "2006-01-02", "2006-01-02 15:04").
func parseWhen(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.ParseFloat(d, 64); err == nil && n >= 0 {
			return now.Add(-time.Duration(n * float64(24*time.Hour))), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is neither a duration (90m, 24h, 7d) nor a time (2006-01-02T15:04:05Z)", s)
}

// reportError prints err with its advice and returns the exit code.
func reportError(e *env, err error) int {
	var u usageError
	if errors.As(err, &u) {
		fmt.Fprintf(e.stderr, "glassbox trace: %s\nRun 'glassbox help trace' for usage.\n", u)
		return exitUsage
	}
	var se *story.Error
	if !errors.As(err, &se) {
		fmt.Fprintf(e.stderr, "glassbox trace: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(e.stderr, "glassbox trace: %v\n", se)
	if se.Hint != "" {
		fmt.Fprintf(e.stderr, "  %s\n", se.Hint)
	}
	if se.Kind == story.ErrNoData {
		return exitNotFound
	}
	return exitUsage
}

// notFound says what was searched, and what to try.
func notFound(e *env, res *story.Result, cov func() story.Coverage) {
	fmt.Fprintf(e.stderr, "glassbox trace: no log line or span carries %q as correlation.id, trace.id or error.id\n", res.ID)
	fmt.Fprintf(e.stderr, "  searched: %s", res.Source)
	if !res.Since.IsZero() || !res.Until.IsZero() {
		fmt.Fprintf(e.stderr, ", %s to %s", when(res.Since, "the beginning"), when(res.Until, "now"))
	}
	fmt.Fprintln(e.stderr)
	if cov != nil {
		c := cov()
		if c.Docs > 0 && !c.First.IsZero() {
			fmt.Fprintf(e.stderr, "  the files hold %d documents from %s to %s\n", c.Docs, when(c.First, ""), when(c.Last, ""))
		} else {
			fmt.Fprintf(e.stderr, "  the files hold %d documents\n", c.Docs)
		}
	}
	fmt.Fprintln(e.stderr, "  Check the ID (copy it from the X-Correlation-ID response header, the Sentry event's")
	fmt.Fprintln(e.stderr, "  correlation_id tag, or a log line), and that the request's services wrote to this source;")
	if cov == nil {
		fmt.Fprintln(e.stderr, "  for an older request, widen the window with --since (e.g. --since 7d).")
	} else {
		fmt.Fprintln(e.stderr, "  documents still queued reach the files within milliseconds, all of them at shutdown.")
	}
}

func when(t time.Time, zero string) string {
	if t.IsZero() {
		return zero
	}
	return t.UTC().Format("2006-01-02 15:04:05 MST")
}

// render writes the story as --json, --html or the terminal waterfall.
func (o *traceOptions) render(e *env, s *story.Story) int {
	if o.html != "" {
		if err := writeHTML(e, o.html, s, e.getenv("GLASSBOX_KIBANA_URL")); err != nil {
			fmt.Fprintf(e.stderr, "glassbox trace: %v\n", err)
			return exitUsage
		}
	}
	var err error
	out := bufio.NewWriter(e.stdout)
	switch {
	case o.jsonOut:
		err = story.WriteJSON(out, s)
	case o.html == "":
		err = story.WriteText(out, s, story.TextOptions{
			Width:     outputWidth(o.width, e),
			Color:     useColor(o.color, e),
			KibanaURL: e.getenv("GLASSBOX_KIBANA_URL"),
		})
	}
	if err == nil {
		err = out.Flush()
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "glassbox trace: writing the output: %v\n", err)
		return exitUsage
	}
	return exitOK
}

// writeHTML writes the page to path ("-": stdout) and says where on stderr.
func writeHTML(e *env, path string, s *story.Story, kibana string) error {
	var w io.Writer = e.stdout
	if path != "-" {
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("--html: %w", err)
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriter(w)
	if err := story.WriteHTML(bw, s, story.HTMLOptions{KibanaURL: kibana}); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if path != "-" {
		fmt.Fprintf(e.stderr, "glassbox trace: wrote %s (%d spans, %d log lines)\n", path, len(s.Spans), len(s.Logs))
	}
	return nil
}
