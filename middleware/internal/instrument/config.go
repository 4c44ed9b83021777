package instrument

import (
	"log/slog"
	"net/netip"
	"net/textproto"
	"slices"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/internal/debugtoken"
	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/trace"
)

// ScopeName is the instrumentation scope of the spans the middleware and
// the interceptors start.
const ScopeName = "github.com/glassbox-obs/glassbox/middleware"

// Option configures a Config. Package middleware makes them (the With…
// functions) and exports the type as middleware.Option.
type Option interface{ Apply(*Config) }

// OptionFunc is an Option made of a function.
type OptionFunc func(*Config)

// Apply calls f(c).
func (f OptionFunc) Apply(c *Config) { f(c) }

// Config is a resolved set of options: built by New, then read-only and
// safe for concurrent use. The options set its fields; the protocols read
// them.
type Config struct {
	TracerProvider oteltrace.TracerProvider
	Tracer         oteltrace.Tracer
	// MeterProvider is the WithMeterProvider provider, nil for the OTel
	// global one (see metrics.go).
	MeterProvider metric.MeterProvider
	Propagator    propagation.TextMapPropagator
	// LoggerSet is the WithLogger logger, nil for slog.Default (see Logger).
	LoggerSet *slog.Logger
	Observers []Observer
	Redactor  *log.Redactor
	// RedactorSet: WithRedactor was given (a nil Redactor redacts nothing).
	RedactorSet bool
	// CorrHeaders are the correlation headers, canonical HTTP names in
	// order of preference; [0] is echoed and injected. CorrMD are the same,
	// lowercase, for gRPC metadata.
	CorrHeaders []string
	CorrMD      []string
	// IsolateCorr is set when the propagator reads or writes headers other
	// than W3C's and the configured correlation ones: it might then carry
	// a correlation ID under a header the configuration does not list, so
	// Inbound overrules what it extracted and Inject hides the ID from it.
	IsolateCorr    bool
	Public         bool
	TrustedPeers   []netip.Prefix
	TrustedProxies []netip.Prefix
	SkipPaths      []string
	SkipMethods    []string
	SkipServices   []string
	Filter         func(*Request) bool
	Headers        []HeaderCapture
	MDKeys         []string // Headers[i].MDName
	StatusLevel    func(status int) slog.Level
	CodeLevel      func(code uint32) slog.Level

	// metrics are the server instruments (HTTP middleware, gRPC server
	// interceptors), made by resolve.
	metrics *ServerMetrics

	// Request-scoped features (scope.go, sampling.go): the flight
	// recorder, break-glass debugging, outcome-aware access sampling.
	Flight     *log.FlightRecorder
	BreakGlass *debugtoken.Verifier
	Sampling   AccessSampling

	// layer is 0 while the default's options apply, 1 for a
	// constructor's; see add.
	layer                                     int
	obsLayer, peerLayer, proxyLayer, hdrLayer int
}

// HeaderCapture is a request header (or gRPC metadata key) captured as a
// span attribute and access-record field.
type HeaderCapture struct {
	Name      string // canonical HTTP name
	MDName    string // lowercase
	AttrKey   string // http.request.header.<lowercase>
	MDAttrKey string // rpc.grpc.request.metadata.<lowercase>
}

// New builds the configuration of one middleware or interceptor: the
// default's options (see SetDefault) first, then opts. Each setting opts
// touch is theirs: options that add to a list (observers, trusted peers
// and proxies, captured headers) replace the default's list the first
// time a constructor's option adds to it.
func New(opts []Option) *Config {
	c := &Config{
		SkipPaths:    []string{"/healthz", "/readyz", "/livez"},
		SkipServices: []string{"grpc.health.v1.Health"},
		StatusLevel:  DefaultStatusLevel,
		CodeLevel:    DefaultGRPCCodeLevel,
	}
	if d := defaultOpts.Load(); d != nil {
		for _, o := range *d {
			if o != nil {
				o.Apply(c)
			}
		}
	}
	c.layer = 1
	for _, o := range opts {
		if o != nil {
			o.Apply(c)
		}
	}
	c.resolve()
	return c
}

// resolve fills in what the options left unset.
func (c *Config) resolve() {
	if c.TracerProvider == nil {
		c.TracerProvider = otel.GetTracerProvider()
	}
	c.Tracer = c.TracerProvider.Tracer(ScopeName)
	c.metrics = newServerMetrics(c.MeterProvider)
	if c.Propagator == nil {
		c.Propagator = trace.Propagator()
	}
	if !c.RedactorSet {
		c.Redactor = log.NewRedactor()
	}
	if len(c.CorrHeaders) == 0 {
		c.CorrHeaders = trace.DefaultHeaders()
	}
	c.CorrMD = make([]string, len(c.CorrHeaders))
	for i, h := range c.CorrHeaders {
		c.CorrHeaders[i] = textproto.CanonicalMIMEHeaderKey(h)
		c.CorrMD[i] = strings.ToLower(h)
	}
	c.IsolateCorr = !knownFields(c.Propagator, c.CorrHeaders)
	c.MDKeys = make([]string, len(c.Headers))
	for i, h := range c.Headers {
		c.MDKeys[i] = h.MDName
	}
}

// add appends vs to the list *dst of the layer being applied: the first
// addition of the constructor's options drops what the default added.
func add[T any](c *Config, mark *int, dst *[]T, vs ...T) {
	if *mark != c.layer {
		*dst, *mark = nil, c.layer
	}
	*dst = append(*dst, vs...)
}

// AddObservers adds observers (nil ones are skipped).
func (c *Config) AddObservers(obs ...Observer) {
	add(c, &c.obsLayer, &c.Observers)
	for _, o := range obs {
		if o != nil {
			c.Observers = append(c.Observers, o)
		}
	}
}

// AddTrustedPeers adds trusted peer networks.
func (c *Config) AddTrustedPeers(ps ...netip.Prefix) { add(c, &c.peerLayer, &c.TrustedPeers, ps...) }

// AddTrustedProxies adds trusted proxy networks.
func (c *Config) AddTrustedProxies(ps ...netip.Prefix) {
	add(c, &c.proxyLayer, &c.TrustedProxies, ps...)
}

// AddHeaders adds captured request headers.
func (c *Config) AddHeaders(hs ...HeaderCapture) { add(c, &c.hdrLayer, &c.Headers, hs...) }

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
	if c.LoggerSet != nil {
		return c.LoggerSet
	}
	return slog.Default()
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
