package story

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/elastic/elastic-transport-go/v8/elastictransport"
	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// DefaultIndex is where glassbox documents live: the logs and traces data
// streams of every service.
const DefaultIndex = "logs-*,traces-*"

// DefaultPageSize is how many documents one search request returns; below
// Elasticsearch's index.max_result_window (10,000).
const DefaultPageSize = 5000

// ESConfig says how to reach Elasticsearch; the command fills it from the
// variables the exporter reads (ELASTICSEARCH_URL, ELASTICSEARCH_API_KEY,
// ...).
type ESConfig struct {
	// Addresses are node URLs; CloudID an Elastic Cloud ID instead.
	Addresses []string
	CloudID   string
	// APIKey (base64 "id:key") wins over Username and Password.
	APIKey             string
	Username, Password string
	// CACert is PEM to trust for HTTPS.
	CACert []byte
	// Index is the index pattern searched; default DefaultIndex.
	Index string
	// PageSize is the number of hits per request; default DefaultPageSize.
	PageSize int
	// Transport replaces the HTTP transport (tests).
	Transport http.RoundTripper
}

// Elasticsearch is a Source that searches the glassbox data streams with
// a point in time and search_after, so that any number of documents is
// read page by page, consistently.
type Elasticsearch struct {
	cfg  ESConfig
	tp   *elastictransport.Client
	rt   http.RoundTripper
	addr string
}

// NewElasticsearch checks cfg and prepares the client; it does not
// connect.
func NewElasticsearch(cfg ESConfig) (*Elasticsearch, error) {
	if cfg.Index == "" {
		cfg.Index = DefaultIndex
	}
	if cfg.PageSize <= 0 || cfg.PageSize > 10000 {
		cfg.PageSize = DefaultPageSize
	}
	addrs := cfg.Addresses
	if len(addrs) == 0 && cfg.CloudID != "" {
		a, err := cloudAddress(cfg.CloudID)
		if err != nil {
			return nil, &Error{Kind: ErrSource, Msg: "ELASTICSEARCH_CLOUD_ID is not a valid cloud ID", Hint: "Copy it from the deployment's page in Elastic Cloud, or set ELASTICSEARCH_URL instead.", Err: err}
		}
		addrs = []string{a}
	}
	var urls []*url.URL
	for _, a := range addrs {
		u, err := url.Parse(strings.TrimSpace(a))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, &Error{Kind: ErrSource, Msg: fmt.Sprintf("ELASTICSEARCH_URL: %q is not an http(s) URL", redact(a)), Hint: "Set it to the cluster's URL, e.g. https://localhost:9200."}
		}
		urls = append(urls, u)
	}
	rt := cfg.Transport
	if rt == nil {
		t := &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 60 * time.Second,
		}
		if len(cfg.CACert) > 0 {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(cfg.CACert) {
				return nil, &Error{Kind: ErrSource, Msg: "ELASTICSEARCH_CA_CERT holds no PEM certificate", Hint: "Point it at the cluster's CA certificate (PEM), e.g. config/certs/http_ca.crt."}
			}
			t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		}
		rt = t
	}
	tp, err := elastictransport.New(elastictransport.Config{
		URLs: urls, APIKey: cfg.APIKey, Username: cfg.Username, Password: cfg.Password,
		Transport: rt, UserAgent: "glassbox-cli", MaxRetries: 2,
	})
	if err != nil {
		return nil, &Error{Kind: ErrSource, Msg: "cannot configure the Elasticsearch client", Err: err}
	}
	return &Elasticsearch{cfg: cfg, tp: tp, rt: rt, addr: redact(urls[0].String())}, nil
}

// Close releases the idle connections.
func (es *Elasticsearch) Close() error {
	if c, ok := es.rt.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
	return nil
}

// cloudAddress decodes an Elastic Cloud ID ("name:base64(host$es$kibana)").
func cloudAddress(id string) (string, error) {
	_, enc, ok := strings.Cut(id, ":")
	if !ok {
		enc = id
	}
	dec, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return "", err
	}
	parts := strings.Split(string(dec), "$")
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return "", errors.New("no host in the cloud ID")
	}
	return "https://" + parts[1] + "." + parts[0], nil
}

// redact hides the password of a URL with user info.
func redact(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		return u.Redacted()
	}
	return s
}

// Describe implements Source.
func (es *Elasticsearch) Describe() string {
	return "Elasticsearch at " + es.addr + " (" + es.cfg.Index + ")"
}

// Search implements Source: it opens a point in time over the index
// pattern and pages through the matching documents in @timestamp order
// with search_after.
func (es *Elasticsearch) Search(ctx context.Context, q Query, fn func(Doc) bool) error {
	pit, err := es.openPIT(ctx)
	if err != nil {
		return err
	}
	defer func() { es.closePIT(pit) }()
	var after json.RawMessage
	for first := true; ; first = false {
		page, err := es.page(ctx, q, pit, after)
		if err != nil {
			return err
		}
		if first && page.Shards.Total == 0 {
			return es.noData()
		}
		if page.PitID != "" {
			pit = page.PitID
		}
		for _, h := range page.Hits.Hits {
			d, err := newDoc(h.Index+"/"+h.ID, h.Source)
			if err != nil {
				continue
			}
			if !fn(d) {
				return nil
			}
		}
		if len(page.Hits.Hits) < es.cfg.PageSize {
			return nil
		}
		after = page.Hits.Hits[len(page.Hits.Hits)-1].Sort
	}
}

type searchPage struct {
	PitID  string `json:"pit_id"`
	Shards struct {
		Total int `json:"total"`
	} `json:"_shards"`
	Hits struct {
		Hits []struct {
			Index  string          `json:"_index"`
			ID     string          `json:"_id"`
			Source json.RawMessage `json:"_source"`
			Sort   json.RawMessage `json:"sort"`
		} `json:"hits"`
	} `json:"hits"`
}

func (es *Elasticsearch) page(ctx context.Context, q Query, pit string, after json.RawMessage) (*searchPage, error) {
	body, err := json.Marshal(searchBody(q, pit, after, es.cfg.PageSize))
	if err != nil {
		return nil, err
	}
	res, err := esapi.SearchRequest{Body: bytes.NewReader(body)}.Do(ctx, es.tp)
	if err != nil {
		return nil, es.unreachable(err)
	}
	defer res.Body.Close()
	if res.IsError() {
		return nil, es.httpError(res, "search")
	}
	var p searchPage
	if err := json.NewDecoder(res.Body).Decode(&p); err != nil {
		return nil, &Error{Kind: ErrBackend, Msg: "Elasticsearch at " + es.addr + " sent a search response that is not JSON", Err: err}
	}
	return &p, nil
}

// searchBody is the query: any of the IDs, in the window, oldest first;
// the point in time adds its _shard_doc tiebreaker to the sort.
func searchBody(q Query, pit string, after json.RawMessage, size int) map[string]any {
	var should []any
	for _, t := range []struct {
		field string
		ids   []string
	}{{"correlation.id", q.CorrelationIDs}, {"trace.id", q.TraceIDs}, {"error.id", q.ErrorIDs}} {
		if len(t.ids) > 0 {
			should = append(should, map[string]any{"terms": map[string]any{t.field: t.ids}})
		}
	}
	filter := []any{map[string]any{"bool": map[string]any{"should": should, "minimum_should_match": 1}}}
	if !q.Since.IsZero() || !q.Until.IsZero() {
		r := map[string]any{"format": "strict_date_optional_time_nanos"}
		if !q.Since.IsZero() {
			r["gte"] = q.Since.UTC().Format(time.RFC3339Nano)
		}
		if !q.Until.IsZero() {
			r["lte"] = q.Until.UTC().Format(time.RFC3339Nano)
		}
		filter = append(filter, map[string]any{"range": map[string]any{"@timestamp": r}})
	}
	b := map[string]any{
		"size":             size,
		"query":            map[string]any{"bool": map[string]any{"filter": filter}},
		"sort":             []any{map[string]any{"@timestamp": map[string]any{"order": "asc", "numeric_type": "date_nanos", "unmapped_type": "date_nanos"}}},
		"pit":              map[string]any{"id": pit, "keep_alive": "2m"},
		"track_total_hits": false,
	}
	if len(after) > 0 {
		b["search_after"] = after
	}
	return b
}

func (es *Elasticsearch) openPIT(ctx context.Context) (string, error) {
	res, err := esapi.OpenPointInTimeRequest{Index: strings.Split(es.cfg.Index, ","), KeepAlive: "2m"}.Do(ctx, es.tp)
	if err != nil {
		return "", es.unreachable(err)
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusNotFound {
		return "", es.noData()
	}
	if res.IsError() {
		return "", es.httpError(res, "open a point in time")
	}
	var p struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(res.Body).Decode(&p); err != nil || p.ID == "" {
		return "", &Error{Kind: ErrBackend, Msg: "Elasticsearch at " + es.addr + " returned no point in time", Err: err}
	}
	return p.ID, nil
}

// closePIT releases the point in time; a failure only leaves it to
// expire with its keep_alive.
func (es *Elasticsearch) closePIT(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	body, _ := json.Marshal(map[string]string{"id": id})
	res, err := esapi.ClosePointInTimeRequest{Body: bytes.NewReader(body)}.Do(ctx, es.tp)
	if err == nil {
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
}

func (es *Elasticsearch) unreachable(err error) error {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	if errors.As(err, &cv) || errors.As(err, &ua) {
		return &Error{Kind: ErrUnreachable, Msg: "the certificate of Elasticsearch at " + es.addr + " is not trusted",
			Hint: "Set ELASTICSEARCH_CA_CERT to the cluster's CA certificate (PEM), e.g. config/certs/http_ca.crt.", Err: err}
	}
	return &Error{Kind: ErrUnreachable, Msg: "cannot reach Elasticsearch at " + es.addr,
		Hint: "Check ELASTICSEARCH_URL (and ELASTICSEARCH_CA_CERT for HTTPS) and that the cluster is up; or read local files with --dir.", Err: err}
}

func (es *Elasticsearch) noData() error {
	return &Error{Kind: ErrNoData, Msg: "Elasticsearch at " + es.addr + " holds no " + es.cfg.Index + " data stream yet",
		Hint: "Nothing has shipped there yet: run the services with ELASTICSEARCH_URL set (glassbox creates the data streams on the first document), or check --index. " +
			"If services do ship there, this user (or API key) may lack the read privilege on " + es.cfg.Index + ": Elasticsearch shows a user only the indices it may read."}
}

// httpError turns an error answer into advice.
func (es *Elasticsearch) httpError(res *esapi.Response, what string) error {
	var body struct {
		Error struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"error"`
	}
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	_ = json.Unmarshal(raw, &body)
	reason := body.Error.Reason
	if reason == "" {
		reason = strings.TrimSpace(string(raw))
	}
	switch res.StatusCode {
	case http.StatusUnauthorized:
		return &Error{Kind: ErrUnauthorized, Msg: "Elasticsearch at " + es.addr + " refused the credentials (HTTP 401)",
			Hint: "Set ELASTICSEARCH_API_KEY, or ELASTICSEARCH_USERNAME and ELASTICSEARCH_PASSWORD, to a user that may read " + es.cfg.Index + "."}
	case http.StatusForbidden:
		return &Error{Kind: ErrUnauthorized, Msg: "Elasticsearch at " + es.addr + " does not let this user " + what + " on " + es.cfg.Index + " (HTTP 403)",
			Hint: "Grant the user (or API key) the read privilege on " + es.cfg.Index + ".", Err: errors.New(clean(reason))}
	}
	if body.Error.Type == "index_not_found_exception" {
		return es.noData()
	}
	return &Error{Kind: ErrBackend, Msg: fmt.Sprintf("Elasticsearch at %s could not %s (HTTP %d)", es.addr, what, res.StatusCode),
		Hint: "See the reason above; check --index and the cluster's health.", Err: errors.New(clean(reason))}
}
