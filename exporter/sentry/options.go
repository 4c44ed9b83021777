package sentry

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"

	"github.com/glassbox-obs/glassbox/log"
)

// Option configures New.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// ErrNoDSN is returned by New when neither WithDSN nor SENTRY_DSN gives a
// DSN: reporting is off. Test for it with errors.Is.
var ErrNoDSN = errors.New("glassbox/sentry: no DSN (set SENTRY_DSN or use WithDSN)")

// setting is a value with where it came from, for error messages.
type setting struct {
	val string
	src string // "SENTRY_DSN", "WithDSN", ...
}

func (s *setting) set(v, src string) { s.val, s.src = v, src }

type config struct {
	dsn             setting
	environment     setting
	release         setting
	sampleRate      setting // parsed in New
	kibanaURL       setting
	serverName      string
	service         log.Service
	redactor        *log.Redactor
	statuses        map[int]bool
	grpcCodes       map[uint32]bool
	reportLogErrors bool
	clientReports   bool
	sendUserIP      bool
	headers         map[string]bool // canonical names of the headers sent
	maxBreadcrumbs  int
	maxCrumbBytes   int
	queueBytes      int
	window          time.Duration
	timeout         time.Duration
	errorHandler    otel.ErrorHandler
	meter           metric.MeterProvider
	getenv          func(string) string // WithGetenv; os.Getenv by default
}

// Defaults.
const (
	defaultQueueBytes = 1 << 20
	defaultWindow     = time.Minute
	defaultTimeout    = 10 * time.Second
)

func newConfig(opts []Option) config {
	c := config{
		grpcCodes:      map[uint32]bool{2: true, 13: true, 15: true}, // Unknown, Internal, DataLoss
		maxBreadcrumbs: 30,
		maxCrumbBytes:  4 << 10,
		queueBytes:     defaultQueueBytes,
		window:         defaultWindow,
		timeout:        defaultTimeout,
		headers:        map[string]bool{},
		clientReports:  true,
		getenv:         os.Getenv,
	}
	for _, h := range defaultHeaders {
		c.headers[h] = true
	}
	for _, o := range opts {
		if g, ok := o.(getenvOption); ok {
			c.getenv = g.getenv
		}
	}
	c.loadEnv()
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	if c.redactor == nil {
		c.redactor = log.NewRedactor()
	}
	c.maxBreadcrumbs = max(c.maxBreadcrumbs, 0)
	if c.queueBytes < 1 {
		c.queueBytes = defaultQueueBytes
	}
	if c.timeout <= 0 {
		c.timeout = defaultTimeout
	}
	if c.environment.val == "" {
		c.environment.val = c.service.Environment
	}
	if c.release.val == "" {
		c.release.val = c.service.Version
	}
	if c.release.val == "" {
		c.release.val = vcsRevision()
	}
	if c.serverName == "" {
		c.serverName, _ = os.Hostname()
	}
	return c
}

// loadEnv reads the environment through c.getenv; options applied
// afterwards win.
func (c *config) loadEnv() {
	for _, v := range []struct {
		s   *setting
		key string
	}{
		{&c.dsn, "SENTRY_DSN"}, {&c.environment, "SENTRY_ENVIRONMENT"}, {&c.release, "SENTRY_RELEASE"},
		{&c.sampleRate, "SENTRY_SAMPLE_RATE"}, {&c.kibanaURL, "GLASSBOX_KIBANA_URL"},
	} {
		if val := strings.TrimSpace(c.getenv(v.key)); val != "" {
			v.s.set(val, v.key)
		}
	}
}

// validate checks what New cannot work with, naming where it came from.
func (c *config) validate() (dsn *DSN, rate float64, err error) {
	if c.dsn.val == "" {
		return nil, 0, ErrNoDSN
	}
	d, err := ParseDSN(c.dsn.val)
	if err != nil {
		return nil, 0, fmt.Errorf("glassbox/sentry: %s: %w", c.dsn.src, err)
	}
	rate = 1
	if v := c.sampleRate.val; v != "" {
		f, err := strconv.ParseFloat(v, 64)
		switch {
		case c.sampleRate.src == "WithSampleRate":
			if err == nil && f > 0 && f <= 1 {
				rate = f
			}
		case err != nil || !(f > 0 && f <= 1):
			return nil, 0, fmt.Errorf("glassbox/sentry: %s: %q is not a number in (0, 1] (unset SENTRY_DSN to send nothing)", c.sampleRate.src, v)
		default:
			rate = f
		}
	}
	if v := c.kibanaURL.val; v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, 0, fmt.Errorf("glassbox/sentry: %s: %q is not an http(s) URL", c.kibanaURL.src, v)
		}
	}
	return d, rate, nil
}

// vcsRevision is the VCS revision the binary was built from, or "".
func vcsRevision() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			return s.Value
		}
	}
	return ""
}

// Check resolves opts and the environment as New does, without starting
// anything: it returns the DSN New would send to, or the error New
// returns (ErrNoDSN when there is no DSN; otherwise an error naming the
// variable or option at fault). "glassbox doctor" checks an environment
// with it.
func Check(opts ...Option) (*DSN, error) {
	c := newConfig(opts)
	d, _, err := c.validate()
	return d, err
}

// getenvOption carries WithGetenv's function; newConfig picks it up before
// it reads the environment.
type getenvOption struct{ getenv func(string) string }

func (getenvOption) apply(*config) {}

// WithGetenv reads the environment variables New reads (SENTRY_DSN,
// SENTRY_ENVIRONMENT, SENTRY_RELEASE, SENTRY_SAMPLE_RATE,
// GLASSBOX_KIBANA_URL) through getenv instead of os.Getenv, wherever it is
// in the option list (glassbox.Start passes its own). A nil getenv ignores
// the environment. Default: os.Getenv.
func WithGetenv(getenv func(string) string) Option {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	return getenvOption{getenv: getenv}
}

// WithDSN sets the Sentry DSN events are sent to. Default: SENTRY_DSN;
// the option wins. Without either, New returns ErrNoDSN.
func WithDSN(dsn string) Option {
	return optionFunc(func(c *config) { c.dsn.set(strings.TrimSpace(dsn), "WithDSN") })
}

// WithEnvironment sets the event environment. Default: SENTRY_ENVIRONMENT,
// then the Environment of WithService; the option wins.
func WithEnvironment(env string) Option {
	return optionFunc(func(c *config) { c.environment.set(env, "WithEnvironment") })
}

// WithRelease sets the event release. Default: SENTRY_RELEASE, then the
// Version of WithService, then the VCS revision the binary was built from;
// the option wins.
func WithRelease(release string) Option {
	return optionFunc(func(c *config) { c.release.set(release, "WithRelease") })
}

// WithServerName sets the event server_name. Default: the host name. There
// is no environment variable for it.
func WithServerName(name string) Option {
	return optionFunc(func(c *config) { c.serverName = name })
}

// WithService sets the service events come from: its Name is the
// "service" tag of every event, its Environment and Version are the
// event environment and release when neither the options nor
// SENTRY_ENVIRONMENT and SENTRY_RELEASE set them. Default: none
// (glassbox.Start passes its service).
func WithService(s log.Service) Option {
	return optionFunc(func(c *config) { c.service = s })
}

// WithSampleRate sets the fraction of error events sent, in (0, 1].
// Default: SENTRY_SAMPLE_RATE (New fails on a value outside (0, 1]), then
// 1; the option wins, and an option value outside (0, 1] means 1.
func WithSampleRate(rate float64) Option {
	return optionFunc(func(c *config) {
		c.sampleRate.set(strconv.FormatFloat(rate, 'g', -1, 64), "WithSampleRate")
	})
}

// WithKibanaURL sets the Kibana base URL (for example
// "https://kibana.example.com" or one with a space path). Every event then
// carries a Discover link that shows the logs of its correlation ID.
// Default: GLASSBOX_KIBANA_URL, then no link; the option wins. New fails
// when the URL is not http(s).
func WithKibanaURL(u string) Option {
	return optionFunc(func(c *config) { c.kibanaURL.set(strings.TrimSpace(u), "WithKibanaURL") })
}

// WithRedactor sets the redaction list applied to headers, cookies, the
// query string and URLs (through the same log.Redactor methods as the
// middleware's access log and spans), breadcrumb data, contexts and tags.
// Default: log.NewRedactor() (glassbox.Start: the list shared with the
// logs). There is no environment variable for it here (glassbox.Start
// reads GLASSBOX_REDACT_KEYS).
func WithRedactor(r *log.Redactor) Option {
	return optionFunc(func(c *config) { c.redactor = r })
}

// WithHTTPStatuses sets the HTTP statuses reported as failures. Default:
// every status from 500 to 599.
func WithHTTPStatuses(statuses ...int) Option {
	return optionFunc(func(c *config) {
		c.statuses = map[int]bool{}
		for _, s := range statuses {
			c.statuses[s] = true
		}
	})
}

// WithGRPCCodes sets the gRPC status codes reported as failures; pass
// google.golang.org/grpc/codes values. Default: Unknown, Internal and
// DataLoss.
func WithGRPCCodes[C ~uint32](codes ...C) Option {
	return optionFunc(func(c *config) {
		c.grpcCodes = map[uint32]bool{}
		for _, code := range codes {
			c.grpcCodes[uint32(code)] = true
		}
	})
}

// WithLogErrors makes every ERROR (or higher) record that carries an error
// value an event of its own, also outside requests; within a request it is
// the request's one event. Default: off; the last such error of a request
// still becomes the exception of the request's 5xx or panic event.
func WithLogErrors(on bool) Option {
	return optionFunc(func(c *config) { c.reportLogErrors = on })
}

// WithUserIP sends the client IP address (user.ip_address and forwarding
// headers). Default: off; the IP is personal data.
func WithUserIP(on bool) Option { return optionFunc(func(c *config) { c.sendUserIP = on }) }

// WithRequestHeaders adds request headers to those events carry. By
// default an event's request has only Accept, Accept-Encoding,
// Accept-Language, Content-Type, Content-Length, User-Agent, Referer,
// Origin, Host and X-Forwarded-Proto; X-Correlation-ID and X-Request-ID
// only when their value is exactly the request's correlation ID;
// Authorization, Cookie names, X-Api-Key and the like only as
// "[REDACTED]"; the forwarding headers only with WithUserIP. Values go
// through log.Redactor.RedactHeader, as the middleware's captured headers
// do: "[REDACTED]" for a name on the redaction list; Referer, Origin and
// Location without user info, fragment and listed query values; every
// value sanitised (control characters, U+2028/U+2029, bidi overrides and
// invalid UTF-8 replaced) and cut to 1 KiB. There is no environment
// variable for it.
func WithRequestHeaders(names ...string) Option {
	return optionFunc(func(c *config) {
		for _, n := range names {
			if n = strings.TrimSpace(n); n != "" {
				c.headers[http.CanonicalHeaderKey(n)] = true
			}
		}
	})
}

// WithMaxBreadcrumbs sets how many of a request's most recent log records
// are kept as breadcrumbs. Default: 30. Records whose document exceeds 4
// KiB keep their message and level only.
func WithMaxBreadcrumbs(n int) Option {
	return optionFunc(func(c *config) { c.maxBreadcrumbs = n })
}

// WithQueueBytes bounds the memory of events waiting for delivery, and of
// those held for an aggregation window's summary, to n bytes of encoded
// events; an event that does not fit is dropped and counted
// (Stats.DroppedQueueFull). Default: 1 MiB (a typical event with its
// breadcrumbs is 5 to 20 KiB). There is no environment variable for it.
func WithQueueBytes(n int) Option { return optionFunc(func(c *config) { c.queueBytes = n }) }

// WithAggregationWindow sets the aggregation window. The first event of a
// fingerprint is sent at once and opens a window of d; the events with
// the same fingerprint within it are not sent one by one: the first of
// them is held, the others are counted (Stats.Aggregated), and when the
// window closes the held event is sent as the window's summary, with the
// tag "aggregated" set to the number of events it stands for (itself and
// those counted after it) and the context "aggregation" (count, window,
// first_event_id, first_seen, last_seen). Shutdown sends the summaries of
// open windows. Reports of aggregated events return the ID of the
// window's first event. A burst of one failure therefore costs two events
// per window and cannot crowd another failure out of the queue. Default:
// one minute; 0 turns aggregation off. There is no environment variable
// for it.
func WithAggregationWindow(d time.Duration) Option {
	return optionFunc(func(c *config) { c.window = d })
}

// WithClientReports turns client reports on or off. With them on, the
// Reporter tells Sentry how many events it discarded and why (sample
// rate, queue full, backing off a rate limit, network and send errors,
// internal failures; https://develop.sentry.dev/sdk/telemetry/client-reports/),
// so that Sentry's Stats page shows them: the pending report rides along
// with the next envelope, and Shutdown sends what is still pending in an
// envelope of its own. The quantities add up to the Stats counters.
// Default: on. There is no environment variable for it.
func WithClientReports(on bool) Option {
	return optionFunc(func(c *config) { c.clientReports = on })
}

// WithTimeout sets the timeout of one delivery request. Default: 10s.
func WithTimeout(d time.Duration) Option { return optionFunc(func(c *config) { c.timeout = d }) }

// WithErrorHandler receives delivery failures. Default: otel.Handle.
func WithErrorHandler(h otel.ErrorHandler) Option {
	return optionFunc(func(c *config) { c.errorHandler = h })
}

// WithMeterProvider publishes Stats as OpenTelemetry metrics on mp, the
// glassbox.exporter.* instruments with glassbox.exporter="sentry":
// produced (queued), delivered (sent), aggregated, sampled_out, dropped
// (by glassbox.reason: queue_full, backoff, rate_limited, network,
// rejected, internal, shutdown), and the current in_flight. Each
// collection reads Stats; after Shutdown they report the final figures.
// glassbox.Start passes its MeterProvider when a metrics exporter is
// configured. Default: none.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) { c.meter = mp })
}
