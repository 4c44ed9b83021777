package doctor

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/glassbox-obs/glassbox"
	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/internal/kibana"
)

// config is what readConfig learnt: the config check's result and, per
// backend, what to check (or why not).
type config struct {
	result   Result
	es       *esTarget
	otlp     []*otlpTarget // traces, logs, metrics
	sentry   *sentryTarget
	spoolDir string
}

func (c *config) close() {
	if c.es.cluster != nil {
		_ = c.es.cluster.Close(context.Background())
	}
}

// findings collects the problems of the configuration, each naming its
// variable.
type findings struct {
	fails, warns []string
}

// fail records a value that makes Start refuse to start. A variable is
// named once: the first reader to refuse it (Start's own) is the one
// Start reports.
func (f *findings) fail(variable string, err error) {
	for _, e := range f.fails {
		if strings.HasPrefix(e, variable+": ") {
			return
		}
	}
	f.fails = append(f.fails, variable+": "+err.Error())
}

func (f *findings) warn(variable, msg string) {
	f.warns = append(f.warns, variable+": "+msg)
}

// readConfig reads every variable glassbox.Start and the exporters read,
// with the code that reads them for Start, run against getenv
// (glassbox.CheckEnvironment, elasticsearch.Connect, otlp.TraceSettings
// and otlp.LogSettings, sentry.Check), and decides what each backend
// check will contact. Only what the OTel SDK reads from the process
// environment itself is read here by rules that mirror the SDK's (the
// sampler, sampler.go; the OTLP endpoint and headers, otlp.go).
func readConfig(getenv func(string) string) *config {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	f := &findings{}
	c := &config{spoolDir: get("GLASSBOX_SPOOL_DIR")}

	readStart(getenv, f)
	c.es = readElasticsearch(getenv, f)
	c.otlp = readOTLP(getenv, f)
	c.sentry = readSentry(getenv, f)
	if v := get("GLASSBOX_KIBANA_URL"); v != "" {
		if _, err := kibana.ImportURL(v, ""); err != nil {
			f.fail("GLASSBOX_KIBANA_URL", fmt.Errorf("%q is not an http(s) base URL", v))
		}
	}
	c.result = configResult(getenv, f)
	return c
}

// readStart checks the variables Start reads itself, with Start's own
// code (glassbox.CheckEnvironment), and the sampler variables, which the
// OTel SDK reads from the process environment (see checkSampler).
func readStart(getenv func(string) string, f *findings) {
	invalid, ignored := glassbox.CheckEnvironment(getenv)
	for _, err := range invalid {
		f.fail(variableOf(err.Error(), "environment"), trimPrefix(err, "glassbox: "))
	}
	for _, err := range ignored {
		f.warn(variableOf(err.Error(), "environment"), trimPrefix(err, "glassbox: ").Error())
	}
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	if name, msg := checkSampler(get("OTEL_TRACES_SAMPLER"), get("OTEL_TRACES_SAMPLER_ARG")); msg != "" {
		f.warn(name, msg)
	}
}

// configResult is the config check: fail when a value makes Start (or an
// exporter) refuse to start, warn when a value is ignored.
func configResult(getenv func(string) string, f *findings) Result {
	var set []string
	for _, k := range knownVariables {
		if strings.TrimSpace(getenv(k)) != "" {
			set = append(set, k)
		}
	}
	sort.Strings(set)
	r := Result{Name: CheckConfig}
	switch {
	case len(f.fails) > 0:
		r.Status = Fail
		r.Summary = plural(len(f.fails), "variable does not parse", "variables do not parse")
		r.Details = append(f.fails, f.warns...)
		r.Fix = "correct the variables named above: glassbox.Start (or the exporter they configure) refuses them, or sends nowhere useful"
	case len(f.warns) > 0:
		r.Status = Warn
		r.Summary = plural(len(f.warns), "variable is ignored", "variables are ignored")
		r.Details = f.warns
		r.Fix = "correct or unset the variables named above: their defaults apply instead"
	default:
		r.Status = Pass
		switch len(set) {
		case 0:
			r.Summary = "no variable set: JSON logs to stdout, nothing shipped"
		default:
			r.Summary = plural(len(set), "variable set, it parses", "variables set, all parse")
			r.Details = []string{strings.Join(set, " ")}
		}
	}
	return r
}

// knownVariables are the variables glassbox and its exporters read; the
// config check lists the ones that are set (never their values).
var knownVariables = []string{
	"OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_SDK_DISABLED", "OTEL_PROPAGATORS",
	"OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG", "OTEL_TRACES_EXPORTER", "OTEL_LOGS_EXPORTER",
	"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
	"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
	"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
	"OTEL_EXPORTER_OTLP_CERTIFICATE", "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE",
	"OTEL_EXPORTER_OTLP_INSECURE", "OTEL_EXPORTER_OTLP_TRACES_INSECURE", "OTEL_EXPORTER_OTLP_LOGS_INSECURE",
	"OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT",
	"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
	"OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE", "OTEL_EXPORTER_OTLP_METRICS_INSECURE", "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
	"OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "OTEL_BSP_SCHEDULE_DELAY", "OTEL_BSP_EXPORT_TIMEOUT", "OTEL_BLRP_MAX_QUEUE_SIZE",
	"GLASSBOX_LOG_LEVEL", "GLASSBOX_LOG_FORMAT", "GLASSBOX_REDACT_KEYS", "GLASSBOX_KIBANA_URL", "GLASSBOX_FILE_DIR",
	"OTEL_METRICS_EXPORTER", "GLASSBOX_FLIGHT_RECORDER", "GLASSBOX_DEBUG_KEYS",
	"ELASTICSEARCH_URL", "ELASTICSEARCH_CLOUD_ID", "ELASTICSEARCH_API_KEY", "ELASTICSEARCH_USERNAME",
	"ELASTICSEARCH_PASSWORD", "ELASTICSEARCH_CA_CERT",
	"GLASSBOX_SPOOL_DIR", "GLASSBOX_SPOOL_MODE", "GLASSBOX_SPOOL_FSYNC",
	"GLASSBOX_ELASTICSEARCH_TEMPLATES", "GLASSBOX_ELASTICSEARCH_RETENTION",
	"SENTRY_DSN", "SENTRY_ENVIRONMENT", "SENTRY_RELEASE", "SENTRY_SAMPLE_RATE",
}

// readElasticsearch checks the exporter's variables with the exporter's
// own reader (elasticsearch.Connect) when a cluster is configured (as
// Start does: without one it reads none of them), and keeps the
// connection for the checks.
func readElasticsearch(getenv func(string) string, f *findings) *esTarget {
	t := &esTarget{}
	if strings.TrimSpace(getenv("ELASTICSEARCH_URL")) == "" && strings.TrimSpace(getenv("ELASTICSEARCH_CLOUD_ID")) == "" {
		t.skip = "ELASTICSEARCH_URL and ELASTICSEARCH_CLOUD_ID are not set"
		return t
	}
	cl, err := elasticsearch.Connect(elasticsearch.WithGetenv(getenv))
	if err != nil {
		f.fail(variableOf(err.Error(), "ELASTICSEARCH_URL"), trimPrefix(err, "elasticsearch: "))
		t.skip = "the Elasticsearch configuration does not parse (see config)"
		return t
	}
	t.cluster = cl
	t.url = ElasticsearchAddress(getenv)
	t.auth = credentialSource(getenv)
	t.deadLetter = elasticsearch.DefaultDeadLetterFile(strings.TrimSpace(getenv("GLASSBOX_SPOOL_DIR")))
	return t
}

// ElasticsearchAddress names the cluster the environment points the
// exporter at, for messages: the first URL of ELASTICSEARCH_URL without
// its password, or the Elastic Cloud deployment of ELASTICSEARCH_CLOUD_ID,
// or the exporter's default.
func ElasticsearchAddress(getenv func(string) string) string {
	if v := strings.TrimSpace(getenv("ELASTICSEARCH_URL")); v != "" {
		first, _, _ := strings.Cut(v, ",")
		if u, err := url.Parse(strings.TrimSpace(first)); err == nil {
			return u.Redacted()
		}
		return "ELASTICSEARCH_URL"
	}
	if id := strings.TrimSpace(getenv("ELASTICSEARCH_CLOUD_ID")); id != "" {
		name, _, _ := strings.Cut(id, ":")
		return "Elastic Cloud deployment " + strconv.Quote(name)
	}
	return "http://localhost:9200"
}

// credentialSource names the variables the Elasticsearch exporter
// authenticates with, as it reads them (an API key wins):
// "ELASTICSEARCH_API_KEY", "ELASTICSEARCH_USERNAME/ELASTICSEARCH_PASSWORD",
// or "" for none.
func credentialSource(getenv func(string) string) string {
	switch {
	case strings.TrimSpace(getenv("ELASTICSEARCH_API_KEY")) != "":
		return "ELASTICSEARCH_API_KEY"
	case getenv("ELASTICSEARCH_USERNAME") != "" || getenv("ELASTICSEARCH_PASSWORD") != "":
		return "ELASTICSEARCH_USERNAME/ELASTICSEARCH_PASSWORD"
	}
	return ""
}

// variableOf finds the variable an exporter's error names, or def.
func variableOf(msg, def string) string {
	for _, k := range knownVariables {
		if strings.Contains(msg, k+":") {
			return k
		}
	}
	return def
}

// trimPrefix drops the package prefix and the variable name an error
// message starts with, since findings put the variable first.
func trimPrefix(err error, prefix string) error {
	msg := strings.TrimPrefix(err.Error(), prefix)
	if k := variableOf(msg, ""); k != "" {
		msg = strings.TrimPrefix(msg, k+": ")
	}
	return plainError(msg)
}

type plainError string

func (e plainError) Error() string { return string(e) }

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprint(n) + " " + many
}
