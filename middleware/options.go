package middleware

import (
	"fmt"
	"log/slog"
	"net/netip"
	"net/textproto"
	"slices"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/trace"
)

// ScopeName is the instrumentation scope of the spans the middleware starts.
const ScopeName = "github.com/glassbox-obs/glassbox/middleware"

// Option configures the HTTP middleware, the HTTP client Transport and the
// gRPC interceptors of package grpcmw. Options that do not apply to a
// protocol are ignored by it.
type Option interface{ apply(*Config) }

type optionFunc func(*Config)

func (f optionFunc) apply(c *Config) { f(c) }

// Config is a resolved set of options. Integrations that share the options
// (package grpcmw) build one with NewConfig and read it through its methods.
// It is read-only and safe for concurrent use.
type Config struct {
	tp          oteltrace.TracerProvider
	tracer      oteltrace.Tracer
	prop        propagation.TextMapPropagator
	logger      *slog.Logger
	observers   []Observer
	redactor    *log.Redactor
	corrHeaders []string // canonical HTTP names; [0] is echoed and injected
	corrMD      []string // the same, lowercase, for gRPC metadata
	// isolateCorr is set when the propagator reads or writes headers other
	// than W3C's and the configured correlation ones: it might then carry
	// a correlation ID under a header the configuration does not list, so
	// Inbound overrules what it extracted and Inject hides the ID from it.
	isolateCorr    bool
	public         bool
	trustedPeers   []netip.Prefix
	trustedProxies []netip.Prefix
	skipPaths      []string
	skipMethods    []string
	skipServices   []string
	filter         func(*Request) bool
	headers        []headerCapture
	mdKeys         []string // headers[i].mdName
	statusLevel    func(status int) slog.Level
	codeLevel      func(code uint32) slog.Level
	redactSet      bool
}

type headerCapture struct {
	name      string // canonical HTTP name
	mdName    string // lowercase
	attrKey   string // http.request.header.<lowercase>
	mdAttrKey string // rpc.grpc.request.metadata.<lowercase>
}

// NewConfig builds the configuration from opts. It is for package grpcmw;
// applications pass options to HTTP, Transport or the grpcmw constructors.
func NewConfig(opts ...Option) *Config { return newConfig(opts) }

func newConfig(opts []Option) *Config {
	c := &Config{
		skipPaths:    []string{"/healthz", "/readyz", "/livez"},
		skipServices: []string{"grpc.health.v1.Health"},
		statusLevel:  DefaultStatusLevel,
		codeLevel:    DefaultGRPCCodeLevel,
	}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	if c.tp == nil {
		c.tp = otel.GetTracerProvider()
	}
	c.tracer = c.tp.Tracer(ScopeName)
	if c.prop == nil {
		c.prop = trace.Propagator()
	}
	if !c.redactSet {
		c.redactor = log.NewRedactor()
	}
	if len(c.corrHeaders) == 0 {
		c.corrHeaders = trace.DefaultHeaders()
	}
	c.corrMD = make([]string, len(c.corrHeaders))
	for i, h := range c.corrHeaders {
		c.corrHeaders[i] = textproto.CanonicalMIMEHeaderKey(h)
		c.corrMD[i] = strings.ToLower(h)
	}
	c.isolateCorr = !knownFields(c.prop, c.corrHeaders)
	c.mdKeys = make([]string, len(c.headers))
	for i, h := range c.headers {
		c.mdKeys[i] = h.mdName
	}
	return c
}

// knownFields reports whether every header prop uses is a W3C one
// (traceparent, tracestate, baggage) or one of the configured correlation
// headers. A propagator that names no field is not known: OTel's global
// propagator, taken before one was set, delegates to whatever is set later.
func knownFields(prop propagation.TextMapPropagator, configured []string) bool {
	fields := prop.Fields()
	if len(fields) == 0 {
		return false
	}
	for _, f := range fields {
		switch strings.ToLower(f) {
		case "traceparent", "tracestate", "baggage":
			continue
		}
		if !slices.ContainsFunc(configured, func(h string) bool { return strings.EqualFold(h, f) }) {
			return false
		}
	}
	return true
}

// Logger returns the configured logger, or slog.Default() at the time of
// the call.
func (c *Config) Logger() *slog.Logger {
	if c.logger != nil {
		return c.logger
	}
	return slog.Default()
}

// WithTracerProvider sets the TracerProvider spans are started with.
// Default: the OTel global TracerProvider when the middleware is built
// (glassbox.Start installs its own unless told not to).
func WithTracerProvider(tp oteltrace.TracerProvider) Option {
	return optionFunc(func(c *Config) { c.tp = tp })
}

// WithPropagator sets the propagator used to read and write trace context
// and baggage on requests. Default: trace.Propagator() (W3C tracecontext,
// W3C baggage and the correlation headers). The correlation ID itself is
// always read and written through the headers of WithCorrelationHeaders
// only, whatever the propagator: a correlation ID the propagator would
// read or write under another header (a default one that
// WithCorrelationHeaders leaves out, or one of its own) is neither taken
// from requests nor sent on outgoing ones.
func WithPropagator(p propagation.TextMapPropagator) Option {
	return optionFunc(func(c *Config) { c.prop = p })
}

// WithLogger sets the logger access-log and error records go through.
// Default: slog.Default() at the time of each request.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *Config) { c.logger = l })
}

// WithObservers adds request observers (the Sentry integration is one).
// Each observer's Begin runs before the handler, its End after the handler
// returned or panicked. Default: none.
func WithObservers(obs ...Observer) Option {
	return optionFunc(func(c *Config) {
		for _, o := range obs {
			if o != nil {
				c.observers = append(c.observers, o)
			}
		}
	})
}

// WithRedactor sets the redaction list for captured headers, query
// strings and URLs, applied by log.Redactor's RedactQuery, RedactURL and
// RedactHeader (the same code Sentry events go through): query keys are
// matched whole and, when nested ("user[password]", escaped or not), part
// by part; the presigned-URL keys of AWS, Google Cloud Storage and Azure
// (X-Amz-Signature, sig, ...; see log.Redactor.MatchQueryKey) are always
// redacted; URLs lose their user info and fragment. A nil Redactor redacts
// no value. Default: log.NewRedactor(), the default list.
func WithRedactor(r *log.Redactor) Option {
	return optionFunc(func(c *Config) { c.redactor = r; c.redactSet = true })
}

// WithCorrelationHeaders sets the headers an inbound correlation ID is read
// from, in order of preference; the first one is echoed on responses and
// set on outgoing requests (lowercased as gRPC metadata keys). Headers not
// listed are ignored, the default ones included. Default:
// X-Correlation-ID, X-Request-ID.
func WithCorrelationHeaders(headers ...string) Option {
	return optionFunc(func(c *Config) {
		c.corrHeaders = c.corrHeaders[:0]
		for _, h := range headers {
			if h = strings.TrimSpace(h); h != "" {
				c.corrHeaders = append(c.corrHeaders, textproto.CanonicalMIMEHeaderKey(h))
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
	return optionFunc(func(c *Config) { c.public = true })
}

// WithTrustedPeers lists the peer networks (CIDR such as "10.0.0.0/8", or a
// single address) whose trace context, baggage and correlation ID are
// honoured on a public endpoint. The peer is the address of the TCP
// connection, never a header. Invalid entries are ignored and reported
// through otel.Handle when the middleware is built. Default: none.
func WithTrustedPeers(cidrs ...string) Option {
	return optionFunc(func(c *Config) { c.trustedPeers = appendPrefixes(c.trustedPeers, "WithTrustedPeers", cidrs) })
}

// WithTrustedProxies lists the proxy networks (CIDR or single addresses)
// whose X-Forwarded-For header is believed when computing client.address:
// the client is the rightmost address not itself a trusted proxy. Requests
// from other peers have client.address = the connection's address. Invalid
// entries are ignored and reported through otel.Handle. Default: none, so
// X-Forwarded-For is never used.
func WithTrustedProxies(cidrs ...string) Option {
	return optionFunc(func(c *Config) {
		c.trustedProxies = appendPrefixes(c.trustedProxies, "WithTrustedProxies", cidrs)
	})
}

func appendPrefixes(dst []netip.Prefix, opt string, cidrs []string) []netip.Prefix {
	for _, s := range cidrs {
		p, err := parsePrefix(s)
		if err != nil {
			otel.Handle(fmt.Errorf("glassbox/middleware: %s: ignoring %q: %w", opt, sanitize(s, 64), err))
			continue
		}
		dst = append(dst, p)
	}
	return dst
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

// WithSkipPaths sets the URL paths (exact match) that get no span and no
// access-log record; their handlers still run, with a correlation ID that
// is echoed on the response, and keep panic recovery (a 500, the panic
// record with the stack, observers told). Default: /healthz, /readyz,
// /livez. WithSkipPaths() with no argument skips nothing by path.
func WithSkipPaths(paths ...string) Option {
	return optionFunc(func(c *Config) { c.skipPaths = append([]string(nil), paths...) })
}

// WithSkipGRPCMethods sets full gRPC method names ("/pkg.Service/Method")
// or whole services ("pkg.Service") that get no span and no access-log
// record. They keep panic recovery: a panic becomes codes.Internal, a
// "panic recovered" record with the stack, observers told. Default:
// grpc.health.v1.Health. WithSkipGRPCMethods() with no argument skips
// nothing.
func WithSkipGRPCMethods(names ...string) Option {
	return optionFunc(func(c *Config) {
		c.skipMethods, c.skipServices = nil, nil
		for _, n := range names {
			if strings.HasPrefix(n, "/") {
				c.skipMethods = append(c.skipMethods, n)
			} else if n != "" {
				c.skipServices = append(c.skipServices, n)
			}
		}
	})
}

// WithFilter sets a function that decides, per request, whether it is
// instrumented (true) or passed through without span and access log
// (false). It sees Protocol, HTTP (for HTTP) and Method; Route is not known
// yet. It runs after the skip lists. Filtered requests and calls keep
// panic recovery, as WithSkipPaths and WithSkipGRPCMethods. Default: none.
func WithFilter(f func(req *Request) bool) Option {
	return optionFunc(func(c *Config) { c.filter = f })
}

// WithRequestHeaders captures the named request headers as the span
// attributes http.request.header.<name> and access-log fields of the same
// name; on gRPC, the metadata keys of the same names as span attributes
// rpc.grpc.request.metadata.<name>. Values whose header name is on the
// redaction list are written as "[REDACTED]"; all values are sanitised and
// capped (at most 8 values of 1 KiB per header). Default: none.
func WithRequestHeaders(names ...string) Option {
	return optionFunc(func(c *Config) {
		for _, n := range names {
			n = strings.TrimSpace(n)
			if n == "" {
				continue
			}
			low := strings.ToLower(n)
			c.headers = append(c.headers, headerCapture{
				name:      textproto.CanonicalMIMEHeaderKey(n),
				mdName:    low,
				attrKey:   "http.request.header." + low,
				mdAttrKey: "rpc.grpc.request.metadata." + low,
			})
		}
	})
}

// WithStatusLevel sets the level of the access-log record by HTTP status.
// Default: DefaultStatusLevel (5xx error, 4xx warn, else info).
func WithStatusLevel(f func(status int) slog.Level) Option {
	return optionFunc(func(c *Config) {
		if f != nil {
			c.statusLevel = f
		}
	})
}

// WithGRPCCodeLevel sets the level of the gRPC access-log record by status
// code (a google.golang.org/grpc/codes.Code value). Default:
// DefaultGRPCCodeLevel.
func WithGRPCCodeLevel(f func(code uint32) slog.Level) Option {
	return optionFunc(func(c *Config) {
		if f != nil {
			c.codeLevel = f
		}
	})
}

// DefaultStatusLevel maps 5xx to slog.LevelError, 4xx to slog.LevelWarn and
// everything else to slog.LevelInfo.
func DefaultStatusLevel(status int) slog.Level {
	switch {
	case status >= 500:
		return slog.LevelError
	case status >= 400:
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

// DefaultGRPCCodeLevel maps gRPC codes to levels: Info for OK, Canceled,
// InvalidArgument, NotFound, AlreadyExists and Unauthenticated; Warn for
// DeadlineExceeded, PermissionDenied, ResourceExhausted, FailedPrecondition,
// Aborted and OutOfRange; Error for Unknown, Unimplemented, Internal,
// Unavailable, DataLoss and any other code.
func DefaultGRPCCodeLevel(code uint32) slog.Level {
	switch code {
	case 0, 1, 3, 5, 6, 16: // OK, Canceled, InvalidArgument, NotFound, AlreadyExists, Unauthenticated
		return slog.LevelInfo
	case 4, 7, 8, 9, 10, 11: // DeadlineExceeded, PermissionDenied, ResourceExhausted, FailedPrecondition, Aborted, OutOfRange
		return slog.LevelWarn
	}
	return slog.LevelError
}
