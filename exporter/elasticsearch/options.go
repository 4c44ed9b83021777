package elasticsearch

import (
	"fmt"
	"net/http"
	"os"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"

	"github.com/glassbox-obs/glassbox/internal/spool"
	"github.com/glassbox-obs/glassbox/log"
)

// Option configures an Exporter (New) or a Cluster (Connect).
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// config is built by newConfig: defaults, then the environment, then the
// options (which win).
type config struct {
	addresses    []string
	cloudID      string
	apiKey       string
	username     string
	password     string
	caCert       []byte
	transport    http.RoundTripper
	service      log.Service
	flushBytes   int
	interval     time.Duration
	concurrency  int
	queueBytes   int64
	block        bool
	noGzip       bool
	gzipLevel    int
	maxElapsed   time.Duration
	backoffMin   time.Duration
	backoffMax   time.Duration
	timeout      time.Duration
	spoolDir     string
	spoolMode    SpoolMode
	spoolFsync   bool
	spoolBytes   int64
	spoolWrap    func(*os.File) spool.File // tests: a full disk
	deadLetter   string
	dlMaxBytes   int64
	templates    bool
	retention    time.Duration
	errorHandler otel.ErrorHandler
	meter        metric.MeterProvider
	redactor     *log.Redactor

	// probeMax caps the wait between two probes while Elasticsearch cannot
	// be reached (see health.go); clock times every retry and probe wait.
	probeMax time.Duration
	clock    clock
}

// Defaults.
const (
	defaultFlushBytes  = 1 << 20
	defaultInterval    = time.Second
	defaultConcurrency = 2
	defaultQueueBytes  = 32 << 20
	defaultBackoffMin  = 100 * time.Millisecond
	defaultBackoffMax  = 30 * time.Second
	defaultTimeout     = 30 * time.Second
	defaultRetention   = 30 * 24 * time.Hour // of a policy created when none is asked for
	// defaultProbeMax is the longest wait between two probes of an
	// unreachable cluster: delivery resumes at most this long (plus one
	// probe's round trip) after it accepts connections again.
	defaultProbeMax = time.Second
)

// newConfig applies the defaults, then the environment (read through
// WithGetenv's function, os.Getenv by default), then opts. Errors name the
// environment variable or the option at fault.
func newConfig(opts []Option) (config, error) {
	c := config{
		flushBytes:  defaultFlushBytes,
		interval:    defaultInterval,
		concurrency: defaultConcurrency,
		queueBytes:  defaultQueueBytes,
		gzipLevel:   1,
		maxElapsed:  5 * time.Minute,
		backoffMin:  defaultBackoffMin,
		backoffMax:  defaultBackoffMax,
		timeout:     defaultTimeout,
		spoolMode:   SpoolOnFailure,
		spoolBytes:  1 << 30,
		dlMaxBytes:  64 << 20,
		probeMax:    defaultProbeMax,
		clock:       realClock{},
	}
	getenv := os.Getenv
	for _, o := range opts {
		if g, ok := o.(getenvOption); ok {
			getenv = g.getenv
		}
	}
	if err := c.loadEnv(getenv); err != nil {
		return c, err
	}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	c.fillDefaults()
	return c, c.validate()
}

// fillDefaults replaces option values that make no sense by the defaults.
func (c *config) fillDefaults() {
	if c.flushBytes <= 0 {
		c.flushBytes = defaultFlushBytes
	}
	if c.interval <= 0 {
		c.interval = defaultInterval
	}
	if c.concurrency <= 0 {
		c.concurrency = defaultConcurrency
	}
	if c.queueBytes <= 0 {
		c.queueBytes = defaultQueueBytes
	}
	if c.backoffMin <= 0 {
		c.backoffMin = defaultBackoffMin
	}
	if c.backoffMax < c.backoffMin {
		c.backoffMax = c.backoffMin
	}
	if c.timeout <= 0 {
		c.timeout = defaultTimeout
	}
	if c.retention < 0 {
		c.retention = 0 // none asked for: see WithRetention
	}
	if c.probeMax <= 0 {
		c.probeMax = defaultProbeMax
	}
	if c.spoolMode == "" {
		c.spoolMode = SpoolOnFailure
	}
	if c.redactor == nil {
		c.redactor = log.NewRedactor()
	}
	c.service.Fill()
}

func (c *config) validate() error {
	switch c.spoolMode {
	case SpoolOnFailure, SpoolAlways:
	default:
		return fmt.Errorf("elasticsearch: WithSpoolMode: %q is not %q or %q", c.spoolMode, SpoolOnFailure, SpoolAlways)
	}
	return nil
}

// getenvOption carries WithGetenv's function; newConfig picks it up before
// it reads the environment.
type getenvOption struct{ getenv func(string) string }

func (getenvOption) apply(*config) {}

// WithGetenv reads the environment variables named by the other options
// through getenv instead of os.Getenv, wherever it is in the option list
// (glassbox.Start passes its own). A nil getenv ignores the environment.
func WithGetenv(getenv func(string) string) Option {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	return getenvOption{getenv: getenv}
}

// WithAddresses sets the Elasticsearch node URLs; requests are spread over
// them and a failing node is avoided until it answers again. It replaces
// ELASTICSEARCH_URL (comma-separated) and ELASTICSEARCH_CLOUD_ID. Default:
// ELASTICSEARCH_URL, else the cloud ID, else http://localhost:9200.
func WithAddresses(urls ...string) Option {
	return optionFunc(func(c *config) {
		c.addresses = append([]string(nil), urls...)
		c.cloudID = ""
	})
}

// WithCloudID connects to an Elastic Cloud deployment. It replaces
// ELASTICSEARCH_CLOUD_ID and ELASTICSEARCH_URL. Default:
// ELASTICSEARCH_CLOUD_ID when ELASTICSEARCH_URL is not set.
func WithCloudID(id string) Option {
	return optionFunc(func(c *config) {
		c.cloudID = id
		c.addresses = nil
	})
}

// WithAPIKey authenticates with an API key (the base64 "id:key" form). It
// replaces ELASTICSEARCH_API_KEY and any basic authentication. Default:
// ELASTICSEARCH_API_KEY, which wins over ELASTICSEARCH_USERNAME/_PASSWORD.
func WithAPIKey(key string) Option {
	return optionFunc(func(c *config) { c.apiKey, c.username, c.password = key, "", "" })
}

// WithBasicAuth authenticates with a user name and password. It replaces
// ELASTICSEARCH_USERNAME, ELASTICSEARCH_PASSWORD and any API key. Default:
// those two variables (when ELASTICSEARCH_API_KEY is not set).
func WithBasicAuth(user, password string) Option {
	return optionFunc(func(c *config) { c.username, c.password, c.apiKey = user, password, "" })
}

// WithCACert trusts the PEM-encoded CA certificates for HTTPS. It replaces
// ELASTICSEARCH_CA_CERT (the name of a PEM file). Default: that file, else
// the system's roots.
func WithCACert(pem []byte) Option { return optionFunc(func(c *config) { c.caCert = pem }) }

// WithTransport replaces the HTTP transport (for proxies or tests).
// Default: a transport with a connection pool sized for the concurrency.
func WithTransport(rt http.RoundTripper) Option {
	return optionFunc(func(c *config) { c.transport = rt })
}

// WithService sets the service identity: the dataset and namespace name
// the data streams (logs-<dataset>-<namespace>, traces-<dataset>-<namespace>)
// and the service fields of span documents. Default: log.Service{}.Fill(),
// dataset "generic", namespace "default"; glassbox.Start passes its own.
func WithService(s log.Service) Option { return optionFunc(func(c *config) { c.service = s }) }

// WithFlushBytes sets how many bytes of documents (before compression) make
// a bulk request. Default 1 MiB.
func WithFlushBytes(n int) Option { return optionFunc(func(c *config) { c.flushBytes = n }) }

// WithFlushInterval sets how long a partly filled bulk request may wait.
// Default 1 s.
func WithFlushInterval(d time.Duration) Option {
	return optionFunc(func(c *config) { c.interval = d })
}

// WithConcurrency sets how many bulk requests may be in flight. Default 2.
func WithConcurrency(n int) Option { return optionFunc(func(c *config) { c.concurrency = n }) }

// WithQueueBytes bounds the memory held for documents not yet delivered
// (buffered, in flight or waiting for a retry). When full, the newest
// document is dropped and counted (queue_full) unless Block is given.
// Default 32 MiB.
func WithQueueBytes(n int64) Option { return optionFunc(func(c *config) { c.queueBytes = n }) }

// Block makes writes wait for queue space instead of dropping, for batch
// jobs that prefer slowing down to losing records. Never use it in a
// request-serving process: an Elasticsearch outage would stall requests.
func Block() Option { return optionFunc(func(c *config) { c.block = true }) }

// WithoutGzip sends bulk bodies uncompressed. Default: gzip (level 1).
func WithoutGzip() Option { return optionFunc(func(c *config) { c.noGzip = true }) }

// WithGzipLevel sets the gzip level (1 fastest .. 9 smallest). Default 1.
func WithGzipLevel(level int) Option { return optionFunc(func(c *config) { c.gzipLevel = level }) }

// WithMaxElapsedTime sets how long a document is retried (429, 5xx,
// timeouts, an unreachable cluster) before it is given up: spooled when a
// spool is configured, otherwise dropped and counted (retry_exhausted).
// Default 5 min.
func WithMaxElapsedTime(d time.Duration) Option {
	return optionFunc(func(c *config) { c.maxElapsed = d })
}

// WithBackoff sets the exponential backoff bounds of retries after 429 and
// 5xx answers; each wait is drawn uniformly from [0, min(max, min*2^attempt)]
// (full jitter). A wait after a whole request was refused ends early when
// another request succeeds. While the cluster cannot be reached at all,
// one cheap probe runs at most every second instead (never more than max
// apart) and every sender waits for it. Default 100 ms up to 30 s.
func WithBackoff(min, max time.Duration) Option {
	return optionFunc(func(c *config) { c.backoffMin, c.backoffMax = min, max })
}

// WithRequestTimeout bounds one bulk request. Default 30 s.
func WithRequestTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.timeout = d })
}

// WithSpoolDir keeps batches that cannot be delivered in segment files in
// dir, replayed oldest first when Elasticsearch is back and after a
// restart (see WithSpoolMode for when records are written there). It
// replaces GLASSBOX_SPOOL_DIR. Default: that variable, else no spool (an
// outage longer than the queue can hold loses the newest records, counted).
func WithSpoolDir(dir string) Option { return optionFunc(func(c *config) { c.spoolDir = dir }) }

// SpoolMode says when records are written to the spool directory.
type SpoolMode string

const (
	// SpoolOnFailure writes a batch to the spool when it cannot be
	// delivered. A killed process loses the records in memory (the open
	// batch, the queued batches and the requests in flight: up to
	// WithQueueBytes); a clean Shutdown loses nothing.
	SpoolOnFailure SpoolMode = "on-failure"
	// SpoolAlways writes every record ahead to the spool (one write system
	// call, into the page cache) before Write returns: a killed process
	// loses nothing it accepted; a machine crash loses what the page cache
	// held unless WithSpoolFsync is on. A delivered batch's file is
	// deleted; a failed one is kept for replay without a second write.
	SpoolAlways SpoolMode = "always"
)

// WithSpoolMode chooses when records go to the spool (with WithSpoolDir).
// It replaces GLASSBOX_SPOOL_MODE ("on-failure" or "always"). Default:
// that variable, else SpoolOnFailure. New fails on another value.
func WithSpoolMode(m SpoolMode) Option { return optionFunc(func(c *config) { c.spoolMode = m }) }

// WithSpoolFsync(true) flushes the spool to stable storage once per batch:
// in SpoolAlways mode when a batch is sealed for sending (a machine crash
// then loses at most the open batch, one flush interval), in
// SpoolOnFailure mode after each failed batch is written. It costs one
// fsync per batch on a worker, never on the caller, plus one of the spool
// directory for each new file (a batch's journal, a new segment), so that
// the file is found after a crash. It replaces
// GLASSBOX_SPOOL_FSYNC (a boolean). Default: that variable, else off.
func WithSpoolFsync(on bool) Option { return optionFunc(func(c *config) { c.spoolFsync = on }) }

// WithSpoolBytes bounds the spool's disk use; the oldest segment is dropped
// (counted as spool_full) to make room. Default 1 GiB.
func WithSpoolBytes(n int64) Option { return optionFunc(func(c *config) { c.spoolBytes = n }) }

// WithDeadLetterFile sets the NDJSON file that receives documents
// Elasticsearch rejected for good (400-class item errors, a document too
// large for one request). Default: dead-letter.ndjson in the spool
// directory, else glassbox-dead-letter.ndjson in os.TempDir().
func WithDeadLetterFile(path string) Option {
	return optionFunc(func(c *config) { c.deadLetter = path })
}

// WithTemplates installs the ILM policy, component templates and index
// templates (see Cluster.InstallTemplates) before the first document is
// sent. Until they are installed documents wait in the queue (and spool).
// It replaces GLASSBOX_ELASTICSEARCH_TEMPLATES (a boolean). Default: that
// variable, else off.
func WithTemplates() Option { return optionFunc(func(c *config) { c.templates = true }) }

// WithRetention sets how long the ILM policy keeps data: the policy is
// created with it, and an installed glassbox policy with another retention
// is updated to it (see Cluster.InstallTemplates). It replaces
// GLASSBOX_ELASTICSEARCH_RETENTION ("30d" or a Go duration such as
// "720h"). Default: that variable; without either, a policy is created
// with 30 days and an installed one keeps its retention.
func WithRetention(d time.Duration) Option { return optionFunc(func(c *config) { c.retention = d }) }

// WithErrorHandler receives background failures (rate-limited, at most one
// per second). Default: one line on os.Stderr.
func WithErrorHandler(h otel.ErrorHandler) Option {
	return optionFunc(func(c *config) { c.errorHandler = h })
}

// WithMeterProvider publishes Stats as OpenTelemetry metrics on mp, the
// glassbox.exporter.* instruments with glassbox.exporter="elasticsearch":
// produced, delivered, duplicates, retried, repaired, dead_lettered,
// spooled, replayed, journaled, recovered, spool_corrupt, requests, wire
// (bytes), dropped (by glassbox.reason: queue_full, spool_full,
// retry_exhausted, shutdown), and the current in_flight, in_spool,
// queue.size and spool.size (bytes). Each collection reads Stats; after
// Shutdown they report the final figures. glassbox.Start passes its
// MeterProvider when a metrics exporter is configured. Default: none.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) { c.meter = mp })
}

// WithRedactor sets the redaction list applied to span documents: the value
// of a span or span event attribute whose key it matches is stored as
// log.Redacted. Log documents arrive redacted by the log handler. Default:
// log.NewRedactor() (the default key list), also when r is nil;
// glassbox.Start passes its own (WithRedactKeys and GLASSBOX_REDACT_KEYS).
func WithRedactor(r *log.Redactor) Option { return optionFunc(func(c *config) { c.redactor = r }) }
