package elasticsearch

import (
	"net/http"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"

	"github.com/glassbox-obs/glassbox/log"
)

// Option configures an Exporter.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

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
	spoolBytes   int64
	deadLetter   string
	dlMaxBytes   int64
	templates    bool
	retention    time.Duration
	errorHandler otel.ErrorHandler
	meter        metric.MeterProvider
	redactor     *log.Redactor
}

func newConfig(opts []Option) config {
	c := config{
		flushBytes:  1 << 20,
		interval:    time.Second,
		concurrency: 2,
		queueBytes:  32 << 20,
		gzipLevel:   1,
		maxElapsed:  5 * time.Minute,
		backoffMin:  100 * time.Millisecond,
		backoffMax:  30 * time.Second,
		timeout:     30 * time.Second,
		spoolBytes:  1 << 30,
		dlMaxBytes:  64 << 20,
		retention:   30 * 24 * time.Hour,
	}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	if c.flushBytes <= 0 {
		c.flushBytes = 1 << 20
	}
	if c.interval <= 0 {
		c.interval = time.Second
	}
	if c.concurrency <= 0 {
		c.concurrency = 2
	}
	if c.queueBytes <= 0 {
		c.queueBytes = 32 << 20
	}
	if c.backoffMin <= 0 {
		c.backoffMin = 100 * time.Millisecond
	}
	if c.backoffMax < c.backoffMin {
		c.backoffMax = c.backoffMin
	}
	if c.timeout <= 0 {
		c.timeout = 30 * time.Second
	}
	if c.retention <= 0 {
		c.retention = 30 * 24 * time.Hour
	}
	if c.redactor == nil {
		c.redactor = log.NewRedactor()
	}
	c.service.Fill()
	return c
}

// WithAddresses sets the Elasticsearch node URLs; requests are spread over
// them and a failing node is retried on the next. The glassbox package
// fills it from ELASTICSEARCH_URL (comma-separated); this option wins.
// Default: http://localhost:9200.
func WithAddresses(urls ...string) Option {
	return optionFunc(func(c *config) { c.addresses = append([]string(nil), urls...) })
}

// WithCloudID connects to an Elastic Cloud deployment instead of addresses.
func WithCloudID(id string) Option { return optionFunc(func(c *config) { c.cloudID = id }) }

// WithAPIKey authenticates with an API key (the base64 "id:key" form).
// Glassbox fills it from ELASTICSEARCH_API_KEY; it wins over basic auth.
func WithAPIKey(key string) Option { return optionFunc(func(c *config) { c.apiKey = key }) }

// WithBasicAuth authenticates with a user name and password. Glassbox
// fills them from ELASTICSEARCH_USERNAME and ELASTICSEARCH_PASSWORD.
func WithBasicAuth(user, password string) Option {
	return optionFunc(func(c *config) { c.username, c.password = user, password })
}

// WithCACert trusts the PEM-encoded CA certificates for HTTPS. Glassbox
// reads them from the file named by ELASTICSEARCH_CA_CERT.
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
// timeouts) before it is given up: spooled when a spool is configured,
// otherwise dropped and counted (retry_exhausted). Default 5 min.
func WithMaxElapsedTime(d time.Duration) Option {
	return optionFunc(func(c *config) { c.maxElapsed = d })
}

// WithBackoff sets the exponential backoff bounds; each wait is drawn
// uniformly from [0, min(max, min*2^attempt)] (full jitter).
// Default 100 ms up to 30 s.
func WithBackoff(min, max time.Duration) Option {
	return optionFunc(func(c *config) { c.backoffMin, c.backoffMax = min, max })
}

// WithRequestTimeout bounds one bulk request. Default 30 s.
func WithRequestTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.timeout = d })
}

// WithSpoolDir keeps batches that cannot be delivered in segment files in
// dir, replayed oldest first when Elasticsearch is back and after a
// restart. Glassbox fills it from GLASSBOX_SPOOL_DIR. Default: no spool
// (an outage longer than the queue can hold loses the newest records,
// counted).
func WithSpoolDir(dir string) Option { return optionFunc(func(c *config) { c.spoolDir = dir }) }

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
// templates (see InstallTemplates) before the first document is sent. Until
// they are installed documents wait in the queue (and spool). Default off.
func WithTemplates() Option { return optionFunc(func(c *config) { c.templates = true }) }

// WithRetention sets how long the ILM policy keeps data. Default 30 days.
func WithRetention(d time.Duration) Option { return optionFunc(func(c *config) { c.retention = d }) }

// WithErrorHandler receives background failures (rate-limited, at most one
// per second). Default: one line on os.Stderr.
func WithErrorHandler(h otel.ErrorHandler) Option {
	return optionFunc(func(c *config) { c.errorHandler = h })
}

// WithMeterProvider publishes the Stats counters as OpenTelemetry metrics
// (glassbox.elasticsearch.*). Default: none.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) { c.meter = mp })
}

// WithRedactor sets the redaction list applied to span documents: the value
// of a span or span event attribute whose key it matches is stored as
// log.Redacted. Log documents arrive redacted by the log handler. Default:
// log.NewRedactor() (the default key list), also when r is nil;
// glassbox.Start passes its own (WithRedactKeys and GLASSBOX_REDACT_KEYS).
func WithRedactor(r *log.Redactor) Option { return optionFunc(func(c *config) { c.redactor = r }) }
