package elasticsearch

import (
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
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/elastic/elastic-transport-go/v8/elastictransport"
	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// Cluster is a connection to Elasticsearch for what is not shipping
// documents: checking that it answers (Ping) and installing or inspecting
// the glassbox templates (InstallTemplates, TemplatesStatus). It is what
// the glassbox CLI's setup and doctor commands use. Connect builds one
// from the same options and environment as New; Exporter.Cluster returns
// the exporter's own. It is safe for concurrent use.
//
// Cluster implements esapi.Transport, so any request of
// github.com/elastic/go-elasticsearch/v8/esapi can be sent through it
// (req.Do(ctx, cluster)).
type Cluster struct {
	tp        *elastictransport.Client
	own       *http.Transport // closed with the cluster; nil for WithTransport's
	genuine   atomic.Bool     // the product check passed
	retention time.Duration
}

var _ esapi.Transport = (*Cluster)(nil)

// Connect returns a Cluster configured by opts on top of the environment
// (ELASTICSEARCH_URL, ELASTICSEARCH_CLOUD_ID, ELASTICSEARCH_API_KEY,
// ELASTICSEARCH_USERNAME / ELASTICSEARCH_PASSWORD, ELASTICSEARCH_CA_CERT
// and GLASSBOX_ELASTICSEARCH_RETENTION; see the options). Options that do
// not concern the connection are ignored. It does not contact
// Elasticsearch. Close it when done.
func Connect(opts ...Option) (*Cluster, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	return newCluster(&cfg)
}

func newCluster(cfg *config) (*Cluster, error) {
	urls, err := clusterURLs(cfg)
	if err != nil {
		return nil, fmt.Errorf("elasticsearch: %w", err)
	}
	c := &Cluster{retention: cfg.retention}
	topts := []elastictransport.Option{
		elastictransport.WithURLs(urls...),
		elastictransport.WithUserAgent(userAgent()),
		elastictransport.WithDisableRetry(), // retries are per item, see deliver.go
	}
	switch {
	case cfg.apiKey != "":
		topts = append(topts, elastictransport.WithAPIKey(cfg.apiKey))
	case cfg.username != "" || cfg.password != "":
		topts = append(topts, elastictransport.WithBasicAuth(cfg.username, cfg.password))
	}
	if cfg.transport != nil {
		topts = append(topts, elastictransport.WithTransport(cfg.transport))
		if len(cfg.caCert) > 0 {
			topts = append(topts, elastictransport.WithCACert(cfg.caCert))
		}
	} else {
		if c.own, err = newHTTPTransport(cfg); err != nil {
			return nil, fmt.Errorf("elasticsearch: %w", err)
		}
		topts = append(topts, elastictransport.WithTransport(c.own))
	}
	if c.tp, err = elastictransport.NewClient(topts...); err != nil {
		return nil, fmt.Errorf("elasticsearch: %w", err)
	}
	return c, nil
}

// newHTTPTransport is the default transport: a connection pool sized for
// the concurrency, and the CA certificates of WithCACert.
func newHTTPTransport(cfg *config) (*http.Transport, error) {
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          4 * cfg.concurrency,
		MaxIdleConnsPerHost:   2 * cfg.concurrency,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
	}
	if len(cfg.caCert) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(cfg.caCert) {
			return nil, errors.New("WithCACert: no PEM certificate found")
		}
		t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return t, nil
}

// clusterURLs are the node URLs: the addresses, or the one of the cloud
// ID, or http://localhost:9200.
func clusterURLs(cfg *config) ([]*url.URL, error) {
	addrs := cfg.addresses
	if len(addrs) == 0 && cfg.cloudID != "" {
		a, err := cloudAddress(cfg.cloudID)
		if err != nil {
			return nil, err
		}
		addrs = []string{a}
	}
	if len(addrs) == 0 {
		addrs = []string{"http://localhost:9200"}
	}
	urls := make([]*url.URL, 0, len(addrs))
	for _, a := range addrs {
		u, err := url.Parse(strings.TrimRight(a, "/"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("WithAddresses: %q is not an http(s) URL", redactURL(a))
		}
		urls = append(urls, u)
	}
	return urls, nil
}

// cloudAddress decodes an Elastic Cloud ID, "<name>:<base64 of
// host$es-id$kibana-id>", into the deployment's Elasticsearch URL.
func cloudAddress(id string) (string, error) {
	_, enc, ok := strings.Cut(id, ":")
	if !ok {
		return "", errors.New("cloud ID: want <name>:<base64>")
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return "", fmt.Errorf("cloud ID: %w", err)
	}
	parts := strings.Split(string(raw), "$")
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return "", errors.New("cloud ID: want host$elasticsearch-id in its encoded part")
	}
	return "https://" + parts[1] + "." + parts[0], nil
}

func userAgent() string {
	return "glassbox go-elasticsearch/" + esapi.Version + " (" + runtime.GOOS + " " + runtime.GOARCH + "; Go " + strings.TrimPrefix(runtime.Version(), "go") + ")"
}

// errNotElasticsearch is the product check's failure, as go-elasticsearch
// words it: a 2xx answer without "X-Elastic-Product: Elasticsearch".
var errNotElasticsearch = errors.New("elasticsearch: the server is not Elasticsearch (no X-Elastic-Product header in a successful answer)")

// Perform sends req to one of the nodes. It checks, as go-elasticsearch
// does, that the first successful answer comes from Elasticsearch.
func (c *Cluster) Perform(req *http.Request) (*http.Response, error) {
	res, err := c.tp.Perform(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode >= 200 && res.StatusCode < 300 && !c.genuine.Load() {
		if res.Header.Get("X-Elastic-Product") != "Elasticsearch" {
			res.Body.Close()
			return nil, errNotElasticsearch
		}
		c.genuine.Store(true)
	}
	return res, nil
}

// Info is what Ping learns about the cluster.
type Info struct {
	// Name is the node's name, ClusterName the cluster's.
	Name, ClusterName string
	// Version is the Elasticsearch version, e.g. "8.19.7".
	Version string
}

// Supported reports whether the version is at least MinVersion, the oldest
// the templates work on.
func (i Info) Supported() bool { return versionAtLeast(i.Version, MinVersion) }

// Ping asks the cluster who it is (GET /). It fails when no node answers,
// when the answer is not Elasticsearch's, or on an HTTP error (401, 403,
// ...) whose status the error names.
func (c *Cluster) Ping(ctx context.Context) (Info, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	res, err := esapi.InfoRequest{}.Do(ctx, c)
	if err != nil {
		return Info{}, fmt.Errorf("elasticsearch: GET /: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return Info{}, fmt.Errorf("elasticsearch: GET /: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return Info{}, &StatusError{Method: http.MethodGet, Path: "/", StatusCode: res.StatusCode, Body: trimBody(body)}
	}
	var v struct {
		Name        string `json:"name"`
		ClusterName string `json:"cluster_name"`
		Version     struct {
			Number string `json:"number"`
		} `json:"version"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return Info{}, fmt.Errorf("elasticsearch: GET /: %w", err)
	}
	return Info{Name: v.Name, ClusterName: v.ClusterName, Version: v.Version.Number}, nil
}

// probe is the cheap reachability check of an unreachable cluster (HEAD
// /): any HTTP answer that passes the product check means requests can be
// sent again.
func (c *Cluster) probe(ctx context.Context) error {
	res, err := esapi.PingRequest{}.Do(ctx, c)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	return res.Body.Close()
}

// Close closes the connections; requests fail afterwards. The exporter's
// own Cluster is closed by Exporter.Shutdown.
func (c *Cluster) Close(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	err := c.tp.Close(ctx)
	if c.own != nil {
		c.own.CloseIdleConnections()
	}
	if errors.Is(err, elastictransport.ErrAlreadyClosed) {
		return nil
	}
	return err
}

// StatusError is an error answer (an HTTP status other than the one
// expected) of Elasticsearch to a request of Ping, InstallTemplates or
// TemplatesStatus. Tools tell a refusal of the credentials (401) or of a
// privilege (403) from other failures with errors.As.
type StatusError struct {
	// Method and Path are the request's, e.g. "PUT" and
	// "_index_template/glassbox-logs".
	Method, Path string
	// StatusCode is the answer's HTTP status.
	StatusCode int
	// Body is the start of the answer's body, as Elasticsearch wrote it
	// (sanitise it before showing it in a terminal).
	Body string
}

// Error returns "elasticsearch: <method> <path>: HTTP <status>: <body>".
func (e *StatusError) Error() string {
	return fmt.Sprintf("elasticsearch: %s %s: HTTP %d: %s", e.Method, e.Path, e.StatusCode, e.Body)
}

// trimBody shortens an error answer for a message.
func trimBody(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 512 {
		s = s[:512] + "…"
	}
	return s
}
