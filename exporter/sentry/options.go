package sentry

import (
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel"

	"github.com/glassbox-obs/glassbox/log"
)

// Option configures New.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	dsn             string
	environment     string
	release         string
	serverName      string
	service         string
	sampleRate      float64
	kibanaURL       string
	redactor        *log.Redactor
	statuses        map[int]bool
	grpcCodes       map[uint32]bool
	reportLogErrors bool
	sendUserIP      bool
	headers         map[string]bool // canonical names of the headers sent
	maxBreadcrumbs  int
	maxCrumbBytes   int
	queueSize       int
	timeout         time.Duration
	errorHandler    otel.ErrorHandler
}

func newConfig(opts []Option) config {
	c := config{
		grpcCodes:      map[uint32]bool{2: true, 13: true, 15: true}, // Unknown, Internal, DataLoss
		maxBreadcrumbs: 30,
		maxCrumbBytes:  4 << 10,
		queueSize:      100,
		timeout:        10 * time.Second,
		headers:        map[string]bool{},
	}
	for _, h := range defaultHeaders {
		c.headers[h] = true
	}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	if c.redactor == nil {
		c.redactor = log.NewRedactor()
	}
	if c.maxBreadcrumbs < 0 {
		c.maxBreadcrumbs = 0
	}
	if c.queueSize < 1 {
		c.queueSize = 1
	}
	if c.timeout <= 0 {
		c.timeout = 10 * time.Second
	}
	return c
}

// WithDSN sets the Sentry DSN events are sent to. Required. glassbox.Start
// reads it from SENTRY_DSN; this package never reads the environment.
func WithDSN(dsn string) Option { return optionFunc(func(c *config) { c.dsn = dsn }) }

// WithEnvironment sets the event environment. Default: none
// (glassbox.Start: SENTRY_ENVIRONMENT, then the service environment).
func WithEnvironment(env string) Option {
	return optionFunc(func(c *config) { c.environment = env })
}

// WithRelease sets the event release. Default: sentry-go's derivation
// (build info VCS revision, then git describe) (glassbox.Start:
// SENTRY_RELEASE, then the service version).
func WithRelease(release string) Option {
	return optionFunc(func(c *config) { c.release = release })
}

// WithServerName sets the event server_name. Default: the host name.
func WithServerName(name string) Option {
	return optionFunc(func(c *config) { c.serverName = name })
}

// WithService sets the "service" tag of every event. Default: none
// (glassbox.Start: the service name).
func WithService(name string) Option { return optionFunc(func(c *config) { c.service = name }) }

// WithSampleRate sets the fraction of error events sent, in (0, 1].
// Default: 1 (glassbox.Start: SENTRY_SAMPLE_RATE). Values outside (0, 1]
// mean 1.
func WithSampleRate(rate float64) Option {
	return optionFunc(func(c *config) { c.sampleRate = rate })
}

// WithKibanaURL sets the Kibana base URL (for example
// "https://kibana.example.com" or one with a space path). Every event then
// carries a Discover link that shows the logs of its correlation ID.
// Default: no link (glassbox.Start: GLASSBOX_KIBANA_URL).
func WithKibanaURL(u string) Option { return optionFunc(func(c *config) { c.kibanaURL = u }) }

// WithRedactor sets the redaction list applied to headers, cookies, query
// parameters, bodies, breadcrumb data, contexts and tags. Default:
// log.NewRedactor() (glassbox.Start: the list shared with the logs).
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
// when their value is a valid correlation ID; Authorization, Cookie names,
// X-Api-Key and the like only as "[REDACTED]"; the forwarding headers
// only with WithUserIP. Added headers whose name is on the redaction list
// are sent as "[REDACTED]". Every value is sanitised (control characters,
// U+2028/U+2029, bidi overrides and invalid UTF-8 replaced) and cut to 1
// KiB; Referer and Origin get their query strings redacted like the
// request's. There is no environment variable for it.
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

// WithQueueSize sets how many events may wait for delivery; more are
// dropped and counted. Default: 100.
func WithQueueSize(n int) Option { return optionFunc(func(c *config) { c.queueSize = n }) }

// WithTimeout sets the timeout of one delivery request. Default: 10s.
func WithTimeout(d time.Duration) Option { return optionFunc(func(c *config) { c.timeout = d }) }

// WithErrorHandler receives delivery failures. Default: otel.Handle.
func WithErrorHandler(h otel.ErrorHandler) Option {
	return optionFunc(func(c *config) { c.errorHandler = h })
}
