package doctor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/internal/kibana"
)

// esTarget is the cluster the Elasticsearch checks contact.
type esTarget struct {
	skip       string // why the checks are skipped; "" when cluster is set
	cluster    *elasticsearch.Cluster
	url        string // the first node, without a password, for messages
	auth       string // the credential variables, "" for none
	deadLetter string // the exporter's dead-letter file
}

// What to do when Elasticsearch cannot be reached or refuses a request.
// "glassbox setup elasticsearch" gives the same advice.
const (
	// UnreachableFix is the advice when no node answers.
	UnreachableFix = "check ELASTICSEARCH_URL (or ELASTICSEARCH_CLOUD_ID), that the cluster is up, and that this machine reaches it (proxy, firewall; ELASTICSEARCH_CA_CERT for a private CA)"
	// PrivilegesSetup are the privileges installing the templates needs.
	PrivilegesSetup = "the manage_ilm and manage_index_templates cluster privileges"
	privilegesInfo  = "the monitor cluster privilege"
	privilegesRead  = "the read_ilm and manage_index_templates (or monitor) cluster privileges"
	privilegesCount = "the read privilege on logs-*-* and traces-*-*"
)

// CredentialsFix is the advice when Elasticsearch refused the credentials
// (HTTP 401) that getenv's environment gives the exporter.
func CredentialsFix(getenv func(string) string) string {
	if src := credentialSource(getenv); src != "" {
		return "check " + src + ": wrong, expired or revoked?"
	}
	return "no credentials were sent: set ELASTICSEARCH_API_KEY, or ELASTICSEARCH_USERNAME and ELASTICSEARCH_PASSWORD"
}

// PrivilegeFix is the advice when Elasticsearch refused a request for
// lack of privileges (HTTP 403).
func PrivilegeFix(privileges string) string {
	return "the credentials are valid but lack a privilege: grant " + privileges + " (or run this with credentials that have them)"
}

// statusOf returns the HTTP status of an Elasticsearch error answer, 0
// for any other error.
func statusOf(err error) int {
	var se *elasticsearch.StatusError
	if errors.As(err, &se) {
		return se.StatusCode
	}
	return 0
}

// esProbe is the answer to HEAD /: the status, and the cluster's clock
// with the local times around the request.
type esProbe struct {
	status         int
	date           time.Time // zero without a Date header
	sent, received time.Time
}

// checkElasticsearch runs the Elasticsearch checks in order: each needs
// the one before it to have passed.
func checkElasticsearch(ctx context.Context, o Options, t *esTarget) []Result {
	rs := newResults(CheckESReachable, CheckESAuth, CheckESVersion, CheckESTemplates, CheckESData, CheckESClock)
	if t.skip != "" {
		return rs.skipRest(t.skip)
	}
	p, err := t.head(ctx, o)
	if err != nil {
		rs.set(Fail, t.url+": "+safe(err.Error()), UnreachableFix)
		return rs.skipRest("Elasticsearch cannot be reached")
	}
	if p.status != http.StatusUnauthorized && p.status != http.StatusForbidden && p.status/100 != 2 {
		rs.set(Fail, fmt.Sprintf("%s answered HTTP %d", t.url, p.status), "something other than Elasticsearch answers at "+t.url+" (a proxy or load balancer in trouble?): "+UnreachableFix)
		return rs.skipRest("Elasticsearch does not answer")
	}
	rs.set(Pass, t.url+" answers", "")

	switch p.status {
	case http.StatusUnauthorized:
		rs.set(Fail, "Elasticsearch refused the credentials (HTTP 401)", CredentialsFix(o.Getenv))
		return rs.skipRest("the credentials were refused")
	case http.StatusForbidden:
		rs.set(Warn, "authenticated, but not allowed to read cluster information (HTTP 403)", PrivilegeFix(privilegesInfo))
		rs.set(Skip, "not allowed to read cluster information", "")
	default:
		rs.set(Pass, authSummary(t.auth), "")
		rs.add(t.version(ctx, o))
	}
	rs.add(t.templates(ctx, o))
	rs.add(t.data(ctx, o, p))
	rs.add(clockResult(p))
	return rs.list
}

func authSummary(source string) string {
	if source == "" {
		return "no credentials configured, and the cluster answers without"
	}
	return "authenticated with " + source
}

// head sends HEAD / (what the exporter sends to see whether the cluster
// is back) and notes the Date of the answer.
func (t *esTarget) head(ctx context.Context, o Options) (esProbe, error) {
	ctx, cancel := requestContext(ctx, o)
	defer cancel()
	p := esProbe{sent: o.Now()}
	res, err := esapi.PingRequest{}.Do(ctx, t.cluster)
	p.received = o.Now()
	if err != nil {
		return p, timedOut(ctx, err, o)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	p.status = res.StatusCode
	if d, err := http.ParseTime(res.Header.Get("Date")); err == nil {
		p.date = d
	}
	return p, nil
}

// version is the version check: Cluster.Ping and Info.Supported.
func (t *esTarget) version(ctx context.Context, o Options) Result {
	r := Result{Name: CheckESVersion}
	ctx, cancel := requestContext(ctx, o)
	defer cancel()
	info, err := t.cluster.Ping(ctx)
	err = timedOut(ctx, err, o)
	switch {
	case statusOf(err) == http.StatusForbidden:
		r.Status, r.Summary, r.Fix = Warn, "not allowed to read cluster information (HTTP 403)", PrivilegeFix(privilegesInfo)
	case err != nil:
		r.Status, r.Summary, r.Fix = Fail, safe(err.Error()), UnreachableFix
	case !info.Supported():
		r.Status = Fail
		r.Summary = fmt.Sprintf("Elasticsearch %s is older than %s", safe(info.Version), elasticsearch.MinVersion)
		r.Fix = "upgrade Elasticsearch to " + strings.TrimSuffix(elasticsearch.MinVersion, ".0") + " or newer: the glassbox templates need it"
	default:
		r.Status = Pass
		r.Summary = fmt.Sprintf("Elasticsearch %s, cluster %q", safe(info.Version), safe(info.ClusterName))
	}
	return r
}

// templates is the templates check: what "glassbox setup elasticsearch"
// would do (Cluster.TemplatesStatus) must be nothing.
func (t *esTarget) templates(ctx context.Context, o Options) Result {
	r := Result{Name: CheckESTemplates}
	ctx, cancel := requestContext(ctx, o)
	defer cancel()
	res, err := t.cluster.TemplatesStatus(ctx)
	err = timedOut(ctx, err, o)
	switch {
	case errors.Is(err, elasticsearch.ErrUnsupportedVersion):
		r.Status, r.Summary = Skip, "the version is not supported"
		return r
	case statusOf(err) == http.StatusForbidden:
		r.Status, r.Summary, r.Fix = Warn, "not allowed to read the templates (HTTP 403)", PrivilegeFix(privilegesRead)
		return r
	case err != nil && !errors.Is(err, elasticsearch.ErrNotOwned):
		r.Status, r.Summary, r.Fix = Fail, safe(err.Error()), UnreachableFix
		return r
	}
	var missing, outdated, foreign, newer int
	for _, tr := range res {
		switch {
		case tr.Action == elasticsearch.TemplateCreated:
			missing++
			r.Details = append(r.Details, "missing: "+tr.Path)
		case tr.Action == elasticsearch.TemplateNotOwned:
			foreign++
			r.Details = append(r.Details, fmt.Sprintf("not managed by glassbox: %s (managed_by %q)", tr.Path, safe(tr.ManagedBy)))
		case tr.Action == elasticsearch.TemplateNewer:
			newer++
			r.Details = append(r.Details, fmt.Sprintf("newer: %s (version %d, this glassbox has %d)", tr.Path, tr.Version, elasticsearch.TemplateVersion))
		case tr.Action == elasticsearch.TemplateUpdated && tr.Drift != "":
			outdated++
			r.Details = append(r.Details, fmt.Sprintf("not glassbox's: %s (%s)", tr.Path, tr.Drift))
		case tr.Action == elasticsearch.TemplateUpdated:
			outdated++
			r.Details = append(r.Details, fmt.Sprintf("outdated: %s (version %d, this glassbox has %d)", tr.Path, tr.Version, elasticsearch.TemplateVersion))
		}
	}
	switch {
	case foreign > 0:
		r.Status, r.Summary = Fail, plural(foreign, "object of glassbox's names is managed by another tool", "objects of glassbox's names are managed by another tool")
		r.Fix = "look at them; glassbox setup elasticsearch --force replaces them"
	case missing+outdated > 0:
		r.Status = Fail
		var parts []string
		if missing > 0 {
			parts = append(parts, fmt.Sprintf("%d of %d objects missing", missing, len(res)))
		}
		if outdated > 0 {
			parts = append(parts, fmt.Sprintf("%d of %d outdated or changed", outdated, len(res)))
		}
		r.Summary = strings.Join(parts, ", ")
		r.Fix = "run: glassbox setup elasticsearch (or start a service with GLASSBOX_ELASTICSEARCH_TEMPLATES=true)"
	case newer > 0:
		r.Status, r.Summary = Warn, plural(newer, "object was installed by a newer glassbox", "objects were installed by a newer glassbox")
		r.Fix = "upgrade glassbox in this service: the newer templates may expect fields it does not write"
	default:
		r.Status = Pass
		r.Summary = fmt.Sprintf("%d objects installed, version %d", len(res), elasticsearch.TemplateVersion)
	}
	return r
}

// data is the data check: documents with an @timestamp in the last hour
// of the cluster's clock, in the log and in the trace data streams.
func (t *esTarget) data(ctx context.Context, o Options, p esProbe) Result {
	r := Result{Name: CheckESData}
	now := p.date
	if now.IsZero() {
		now = o.Now()
	}
	since := now.Add(-time.Hour).UTC()
	ctx, cancel := requestContext(ctx, o)
	defer cancel()
	var counts [2]int64
	for i, pattern := range []string{"logs-*-*", "traces-*-*"} {
		n, err := t.count(ctx, pattern, since)
		err = timedOut(ctx, err, o)
		switch {
		case statusOf(err) == http.StatusForbidden:
			r.Status, r.Summary, r.Fix = Warn, "not allowed to count documents (HTTP 403)", PrivilegeFix(privilegesCount)
			return r
		case err != nil:
			r.Status, r.Summary, r.Fix = Fail, safe(err.Error()), UnreachableFix
			return r
		}
		counts[i] = n
	}
	window := "since " + since.Format(time.RFC3339) + " (1 h)"
	r.Summary = fmt.Sprintf("%d log and %d span documents %s", counts[0], counts[1], window)
	switch {
	case counts[0] == 0 && counts[1] == 0:
		r.Status = Fail
		r.Summary = "no document in logs-*-* or traces-*-* " + window
		r.Fix = "is a service running with ELASTICSEARCH_URL set, and did it log? Its Stats().Elasticsearch says what was dropped and why; see the elasticsearch.dead_letter check. " +
			"If documents do arrive, these credentials may lack " + privilegesCount + ": Elasticsearch counts only the data streams a user may read"
	case counts[1] == 0:
		r.Status = Warn
		r.Fix = "no span arrived: spans reach Elasticsearch when they are sampled (OTEL_TRACES_SAMPLER) and the middleware or a tracer starts them"
	case counts[0] == 0:
		r.Status = Warn
		r.Fix = "no log record arrived: is GLASSBOX_LOG_LEVEL above everything the service logs?"
	default:
		r.Status = Pass
	}
	return r
}

// count counts the documents of the data streams matching pattern with an
// @timestamp at or after since.
func (t *esTarget) count(ctx context.Context, pattern string, since time.Time) (int64, error) {
	body := `{"query":{"range":{"@timestamp":{"gte":"` + since.Format(time.RFC3339Nano) + `"}}}}`
	res, err := esapi.CountRequest{Index: []string{pattern}, Body: strings.NewReader(body)}.Do(ctx, t.cluster)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return 0, err
	}
	if res.StatusCode != http.StatusOK {
		return 0, &elasticsearch.StatusError{Method: http.MethodPost, Path: pattern + "/_count", StatusCode: res.StatusCode, Body: string(b)}
	}
	var v struct {
		Count *int64 `json:"count"`
	}
	if err := json.Unmarshal(b, &v); err != nil || v.Count == nil {
		return 0, fmt.Errorf("elasticsearch: POST %s/_count: an answer without a count", pattern)
	}
	return *v.Count, nil
}

// The clock check's limits. Within maxSkew the clocks agree (the Date
// header has a resolution of one second). Above it, a warning: documents
// carry this machine's time, so "--since/--until" and searches by time
// from here are off by as much, but a request's story still holds
// together. Above maxSkewFail (kibana.DiscoverMargin, one minute) it
// fails: the Kibana Discover links glassbox prints (from glassbox trace
// and Sentry events) widen a request's window by that margin on each
// side, so the request's records fall outside the links' windows; a
// --since/--until window of a few minutes misses them; and the data
// check's last hour, measured on the cluster's clock, is off by as much.
const (
	maxSkew     = 2 * time.Second
	maxSkewFail = kibana.DiscoverMargin
)

// clockResult compares the local clock with the Date of the cluster's
// answer. Date has a resolution of one second, so the cluster's time is
// taken as the middle of that second, and the local one as the middle of
// the request.
func clockResult(p esProbe) Result {
	r := Result{Name: CheckESClock}
	if p.date.IsZero() {
		r.Status, r.Summary = Skip, "Elasticsearch sent no Date header"
		return r
	}
	local := p.sent.Add(p.received.Sub(p.sent) / 2)
	skew := local.Sub(p.date.Add(500 * time.Millisecond))
	ahead := "ahead of"
	if skew < 0 {
		skew, ahead = -skew, "behind"
	}
	if skew <= maxSkew {
		r.Status, r.Summary = Pass, fmt.Sprintf("the local clock is within %v of Elasticsearch's", maxSkew)
		return r
	}
	r.Status = Warn
	r.Summary = fmt.Sprintf("the local clock is %v %s Elasticsearch's", skew.Round(time.Second), ahead)
	r.Fix = "synchronise this machine's clock (NTP): documents carry its time, so searches by time and Kibana links from here are off by as much"
	if skew > maxSkewFail {
		r.Status = Fail
		limit := maxSkewFail.String()
		if strings.HasSuffix(limit, "m0s") {
			limit = strings.TrimSuffix(limit, "0s") // "1m", not "1m0s"
		}
		r.Summary += " (more than " + limit + ")"
		r.Fix = "synchronise this machine's clock (NTP): documents carry its time, and off by more than " + limit + " they fall outside the Kibana links glassbox prints and the --since/--until windows of glassbox trace"
	}
	return r
}
