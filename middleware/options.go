package middleware

import (
	"fmt"
	"log/slog"
	"net/netip"
	"net/textproto"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/middleware/internal/instrument"
)

// Option configures the HTTP middleware, the HTTP client Transport and the
// gRPC interceptors of package grpcmw. Options that do not apply to a
// protocol are ignored by it. The options of SetDefault apply first: each
// setting an Option touches is the constructor's own.
type Option = instrument.Option

type optionFunc = instrument.OptionFunc

type config = instrument.Config

// WithTracerProvider sets the TracerProvider spans are started with.
// Default: the one of SetDefault (glassbox.Start sets its own), else the
// OTel global TracerProvider when the middleware is built.
func WithTracerProvider(tp oteltrace.TracerProvider) Option {
	return optionFunc(func(c *config) { c.TracerProvider = tp })
}

// WithMeterProvider sets the MeterProvider the request metrics are
// recorded with: http.server.request.duration and
// http.server.active_requests (HTTP), http.client.request.duration
// (Transport), rpc.server.call.duration and rpc.client.call.duration
// (package grpcmw), by the OpenTelemetry semantic conventions. Requests
// the skip lists and WithFilter pass through are not measured. Default:
// the one of SetDefault (glassbox.Start sets its own when a metrics
// exporter is configured), else the OTel global MeterProvider when the
// middleware is built, which records nothing until one is installed.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) { c.MeterProvider = mp })
}

// WithPropagator sets the propagator used to read and write trace context
// and baggage on requests. Default: the one of SetDefault (glassbox.Start
// sets its own, which honours OTEL_PROPAGATORS), else trace.Propagator()
// (glassbox's W3C Trace Context, W3C baggage and the correlation headers).
// The correlation ID itself is always read and written through the headers
// of WithCorrelationHeaders only, whatever the propagator: a correlation
// ID the propagator would read or write under another header (a default
// one that WithCorrelationHeaders leaves out, or one of its own) is
// neither taken from requests nor sent on outgoing ones.
func WithPropagator(p propagation.TextMapPropagator) Option {
	return optionFunc(func(c *config) { c.Propagator = p })
}

// WithLogger sets the logger access-log and error records go through.
// Default: the one of SetDefault (glassbox.Start sets its own), else
// slog.Default() at the time of each request.
//
// The records carry correlation.id, trace.id and span.id only if the
// logger's handler reads them from the context, as glassbox's log.Handler
// does. Wrap any other handler in log.NewContextIDHandler for them.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) { c.LoggerSet = l })
}

// WithObservers adds request observers (the Sentry integration is one).
// Each observer's Begin runs before the handler, its End after the handler
// returned or panicked. Given to a constructor, the observers replace
// those of SetDefault (pass glassbox's Telemetry.MiddlewareOptions too to
// keep them). Default: those of SetDefault (glassbox.Start sets the Sentry
// observer when Sentry is configured), else none.
func WithObservers(obs ...Observer) Option {
	return optionFunc(func(c *config) {
		list := make([]instrument.Observer, 0, len(obs))
		for _, o := range obs {
			if o != nil {
				list = append(list, o)
			}
		}
		c.AddObservers(list...)
	})
}

// WithRedactor sets the redaction list for captured headers, query
// strings and URLs, applied by log.Redactor's RedactQuery, RedactURL and
// RedactHeader (the same code Sentry events go through): query keys are
// matched whole and, when nested ("user[password]", escaped or not), part
// by part; the presigned-URL keys of AWS, Google Cloud Storage and Azure
// (X-Amz-Signature, sig, ...; see log.Redactor.MatchQueryKey) are always
// redacted; URLs lose their user info and fragment. A nil Redactor redacts
// no value. Default: the one of SetDefault (glassbox.Start sets its own,
// with WithRedactKeys), else log.NewRedactor(), the default list.
func WithRedactor(r *log.Redactor) Option {
	return optionFunc(func(c *config) { c.Redactor, c.RedactorSet = r, true })
}

// WithCorrelationHeaders sets the headers an inbound correlation ID is read
// from, in order of preference; the first one carries the ID on HTTP
// responses, on gRPC header metadata when the server chose the ID, and on
// outgoing requests (lowercased as gRPC metadata keys). Headers not listed
// are ignored, the default ones included. Default: X-Correlation-ID,
// X-Request-ID.
func WithCorrelationHeaders(headers ...string) Option {
	return optionFunc(func(c *config) {
		c.CorrHeaders = nil
		for _, h := range headers {
			if h = strings.TrimSpace(h); h != "" {
				c.CorrHeaders = append(c.CorrHeaders, textproto.CanonicalMIMEHeaderKey(h))
			}
		}
	})
}

// WithPublicEndpoint marks the server as reachable by untrusted clients:
// an inbound traceparent becomes a link on a new root span instead of its
// parent, inbound baggage is dropped, and an inbound correlation ID is
// ignored (a new one is made). Requests whose peer address is in
// WithTrustedPeers are exempt. Default: off (every inbound value is
// honoured after validation).
func WithPublicEndpoint() Option {
	return optionFunc(func(c *config) { c.Public = true })
}

// WithTrustedPeers lists the peer networks (CIDR such as "10.0.0.0/8", or a
// single address) whose trace context, baggage and correlation ID are
// honoured on a public endpoint. The peer is the address of the TCP
// connection, never a header. Invalid entries are ignored and reported
// through otel.Handle when the middleware is built. Default: none.
func WithTrustedPeers(cidrs ...string) Option {
	return optionFunc(func(c *config) { c.AddTrustedPeers(parsePrefixes("WithTrustedPeers", cidrs)...) })
}

// WithTrustedProxies lists the proxy networks (CIDR or single addresses)
// whose X-Forwarded-For header is believed when computing client.address:
// the client is the rightmost address not itself a trusted proxy. Requests
// from other peers have client.address = the connection's address. Invalid
// entries are ignored and reported through otel.Handle. Default: none, so
// X-Forwarded-For is never used.
func WithTrustedProxies(cidrs ...string) Option {
	return optionFunc(func(c *config) { c.AddTrustedProxies(parsePrefixes("WithTrustedProxies", cidrs)...) })
}

func parsePrefixes(opt string, cidrs []string) []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range cidrs {
		p, err := parsePrefix(s)
		if err != nil {
			otel.Handle(fmt.Errorf("glassbox/middleware: %s: ignoring %q: %w", opt, sanitize(s, 64), err))
			continue
		}
		ps = append(ps, p)
	}
	return ps
}

func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// WithSkipPaths sets the URL paths (exact match) that get no span, no
// metrics and no access-log record; their handlers still run, with a correlation ID that
// is echoed on the response, and keep panic recovery (a 500, the panic
// record with the stack, observers told). Default: /healthz, /readyz,
// /livez. WithSkipPaths() with no argument skips nothing by path.
func WithSkipPaths(paths ...string) Option {
	return optionFunc(func(c *config) { c.SkipPaths = append([]string(nil), paths...) })
}

// WithSkipGRPCMethods sets full gRPC method names ("/pkg.Service/Method")
// or whole services ("pkg.Service") that get no span, no metrics and no
// access-log record. They keep panic recovery: a panic becomes codes.Internal, a
// "panic recovered" record with the stack, observers told. Default:
// grpc.health.v1.Health. WithSkipGRPCMethods() with no argument skips
// nothing.
func WithSkipGRPCMethods(names ...string) Option {
	return optionFunc(func(c *config) {
		c.SkipMethods, c.SkipServices = nil, nil
		for _, n := range names {
			if strings.HasPrefix(n, "/") {
				c.SkipMethods = append(c.SkipMethods, n)
			} else if n != "" {
				c.SkipServices = append(c.SkipServices, n)
			}
		}
	})
}

// WithFilter sets a function that decides, per request, whether it is
// instrumented (true) or passed through without span, metrics and access
// log (false). It sees Protocol, HTTP (for HTTP) and Method; Route is not
// known yet. It runs after the skip lists. Filtered requests and calls keep
// panic recovery, as WithSkipPaths and WithSkipGRPCMethods. Default: none.
func WithFilter(f func(req *Request) bool) Option {
	return optionFunc(func(c *config) { c.Filter = f })
}

// WithRequestHeaders captures the named request headers as the span
// attributes http.request.header.<name> and access-log fields of the same
// name; on gRPC, the metadata keys of the same names as span attributes
// rpc.grpc.request.metadata.<name>. Values whose header name is on the
// redaction list are written as "[REDACTED]"; all values are sanitised and
// capped (at most 8 values of 1 KiB per header). Default: none.
func WithRequestHeaders(names ...string) Option {
	return optionFunc(func(c *config) {
		var hs []instrument.HeaderCapture
		for _, n := range names {
			n = strings.TrimSpace(n)
			if n == "" {
				continue
			}
			low := strings.ToLower(n)
			hs = append(hs, instrument.HeaderCapture{
				Name:      textproto.CanonicalMIMEHeaderKey(n),
				MDName:    low,
				AttrKey:   "http.request.header." + low,
				MDAttrKey: "rpc.grpc.request.metadata." + low,
			})
		}
		c.AddHeaders(hs...)
	})
}

// WithStatusLevel sets the level of the access-log record by HTTP status.
// Default: DefaultStatusLevel (5xx error, 4xx warn, else info).
func WithStatusLevel(f func(status int) slog.Level) Option {
	return optionFunc(func(c *config) {
		if f != nil {
			c.StatusLevel = f
		}
	})
}

// WithGRPCCodeLevel sets the level of the gRPC access-log record by status
// code (a google.golang.org/grpc/codes.Code value). Default:
// DefaultGRPCCodeLevel.
func WithGRPCCodeLevel(f func(code uint32) slog.Level) Option {
	return optionFunc(func(c *config) {
		if f != nil {
			c.CodeLevel = f
		}
	})
}

// DefaultStatusLevel maps 5xx to slog.LevelError, 4xx to slog.LevelWarn and
// everything else to slog.LevelInfo.
func DefaultStatusLevel(status int) slog.Level { return instrument.DefaultStatusLevel(status) }

// DefaultGRPCCodeLevel maps gRPC codes to levels: Info for OK, Canceled,
// InvalidArgument, NotFound, AlreadyExists and Unauthenticated; Warn for
// DeadlineExceeded, PermissionDenied, ResourceExhausted, FailedPrecondition,
// Aborted and OutOfRange; Error for Unknown, Unimplemented, Internal,
// Unavailable, DataLoss and any other code.
func DefaultGRPCCodeLevel(code uint32) slog.Level { return instrument.DefaultGRPCCodeLevel(code) }
