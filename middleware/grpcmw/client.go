package grpcmw

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors"
	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	oteltrace "go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/glassbox-obs/glassbox/internal/textsafe"
	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/middleware/internal/instrument"
	"github.com/glassbox-obs/glassbox/trace"
)

// client is a go-grpc-middleware interceptors.ClientReportable, with the
// go-grpc-middleware reporter interceptors it drives.
type client struct {
	c       *instrument.Config
	metrics *instrument.RPCClientMetrics
	targets targetCache
	unary   grpc.UnaryClientInterceptor
	stream  grpc.StreamClientInterceptor
}

var _ interceptors.ClientReportable = (*client)(nil)

func newClient(opts []middleware.Option) *client {
	c := instrument.New(opts)
	cl := &client{c: c, metrics: instrument.NewRPCClientMetrics(c)}
	cl.unary = interceptors.UnaryClientInterceptor(cl)
	cl.stream = interceptors.StreamClientInterceptor(cl)
	return cl
}

// targetKey is the context key of the target of the connection a call is
// made on, for ClientReporter (go-grpc-middleware does not hand it over).
type targetKey struct{}

func (cl *client) unaryCall(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	return cl.unary(context.WithValue(ctx, targetKey{}, cl.targets.lookup(cc)), method, req, reply, cc, invoker, opts...)
}

func (cl *client) streamCall(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	return cl.stream(context.WithValue(ctx, targetKey{}, cl.targets.lookup(cc)), desc, cc, method, streamer, opts...)
}

// UnaryClientInterceptor returns the glassbox client interceptor for unary
// calls, driven by go-grpc-middleware's reporter core: a client span (RPC
// semantic conventions); the correlation ID (x-correlation-id),
// traceparent, tracestate and baggage added to the outgoing metadata from
// the context; rpc.client.call.duration (see middleware.WithMeterProvider);
// one record per call (Debug when OK, else by
// WithGRPCCodeLevel). server.address and server.port on the span are those
// of the connection's target (grpc.NewClient's; 443 when a DNS target
// names no port, as grpc-go dials it; the path of a unix socket).
func UnaryClientInterceptor(opts ...middleware.Option) grpc.UnaryClientInterceptor {
	return newClient(opts).unaryCall
}

// StreamClientInterceptor is UnaryClientInterceptor for streams. The span
// ends, and the record is written, once, when the stream ends: RecvMsg
// returns an error (io.EOF included), creating the stream failed, or the
// stream's context is done (the way a caller abandons a stream; the code
// is then Canceled or DeadlineExceeded).
func StreamClientInterceptor(opts ...middleware.Option) grpc.StreamClientInterceptor {
	return newClient(opts).streamCall
}

// DialOptions returns grpc.WithChainUnaryInterceptor and
// grpc.WithChainStreamInterceptor options with both client interceptors.
func DialOptions(opts ...middleware.Option) []grpc.DialOption {
	cl := newClient(opts)
	return []grpc.DialOption{
		grpc.WithChainUnaryInterceptor(cl.unaryCall),
		grpc.WithChainStreamInterceptor(cl.streamCall),
	}
}

var clientKind = oteltrace.WithSpanKind(oteltrace.SpanKindClient)

// spanName is "service/method", as the RPC semantic conventions name spans.
func spanName(svc, method string) string {
	if svc == "" {
		return method
	}
	return svc + "/" + method
}

// clientCall is the interceptors.Reporter of one outgoing call.
type clientCall struct {
	c       *instrument.Config
	metrics *instrument.RPCClientMetrics
	target  *target // nil when unknown
	ctx     context.Context
	span    oteltrace.Span
	svc     string
	method  string
	typ     interceptors.GRPCType
	started time.Time
	done    atomic.Bool
	// stop unregisters the stream's context.AfterFunc; nil for unary
	// calls.
	stop func() bool
}

// ClientReporter starts the client span and writes the outgoing metadata.
func (cl *client) ClientReporter(ctx context.Context, meta interceptors.CallMeta) (interceptors.Reporter, context.Context) {
	c := cl.c
	svc, method := textsafe.Sanitize(meta.Service, 256), textsafe.Sanitize(meta.Method, 256)
	var buf [6]attribute.KeyValue
	attrs := append(buf[:0],
		semconv.RPCSystemGRPC,
		semconv.RPCServiceKey.String(svc),
		semconv.RPCMethodKey.String(method),
	)
	t, _ := ctx.Value(targetKey{}).(*target)
	if t != nil && t.host != "" {
		attrs = append(attrs, semconv.ServerAddressKey.String(t.host))
		if t.port > 0 {
			attrs = append(attrs, semconv.ServerPortKey.Int(t.port))
		}
	}
	if id, ok := trace.CorrelationID(ctx); ok {
		attrs = append(attrs, attribute.String(instrument.AttrCorrelationID, id))
	}
	ctx, span := c.Tracer.Start(ctx, spanName(svc, method), clientKind, oteltrace.WithAttributes(attrs...))
	md, ok := metadata.FromOutgoingContext(ctx)
	if ok {
		md = md.Copy()
	} else {
		md = metadata.MD{}
	}
	c.Inject(ctx, mdCarrier(md))
	if id, ok := trace.CorrelationID(ctx); ok {
		md[c.CorrMD[0]] = []string{id}
	}
	ctx = metadata.NewOutgoingContext(ctx, md)
	cc := &clientCall{c: c, metrics: cl.metrics, target: t, ctx: ctx, span: span, svc: svc, method: method, typ: meta.Typ, started: time.Now()}
	if meta.Typ != interceptors.Unary {
		// A stream ends from go-grpc-middleware's wrapper only when
		// RecvMsg fails; a caller that abandons the stream by ending its
		// context calls RecvMsg no more. PostCall unregisters this.
		cc.stop = context.AfterFunc(ctx, cc.abandoned)
	}
	return cc, ctx
}

// abandoned ends a stream whose context is done.
func (cc *clientCall) abandoned() {
	cc.PostCall(status.FromContextError(cc.ctx.Err()).Err(), time.Since(cc.started))
}

// PostMsgSend is part of interceptors.Reporter; nothing is recorded per
// message.
func (cc *clientCall) PostMsgSend(any, error, time.Duration) {}

// PostMsgReceive is part of interceptors.Reporter; nothing is recorded per
// message.
func (cc *clientCall) PostMsgReceive(any, error, time.Duration) {}

// PostCall ends the span and writes the call's record, the first time it
// is called: from the call's goroutine or from the stream's
// context.AfterFunc, whichever comes first.
func (cc *clientCall) PostCall(err error, dur time.Duration) {
	if cc.done.Swap(true) {
		return
	}
	if cc.stop != nil {
		cc.stop()
	}
	code := status.Code(err)
	span := cc.span
	span.SetAttributes(semconv.RPCGRPCStatusCodeKey.Int(int(code)))
	var errorType string
	if code != codes.OK {
		errorType = code.String()
		span.SetAttributes(semconv.ErrorTypeKey.String(errorType))
		span.SetStatus(otelcodes.Error, textsafe.Sanitize(status.Convert(err).Message(), 1024))
	}
	span.End()
	cc.record(dur, uint32(code), errorType)

	level := slog.LevelDebug
	if code != codes.OK {
		level = cc.c.CodeLevel(uint32(code))
	}
	l := cc.c.Logger()
	if !l.Enabled(cc.ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("rpc.system", "grpc"),
		slog.String("rpc.service", cc.svc),
		slog.String("rpc.method", cc.method),
		slog.Int("rpc.grpc.status_code", int(code)),
		slog.Duration("event.duration", dur),
	}
	if cc.typ != interceptors.Unary {
		attrs = append(attrs, slog.String("rpc.grpc.method_type", string(cc.typ)))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error.message", textsafe.Sanitize(status.Convert(err).Message(), 4096)))
	}
	rec := slog.NewRecord(time.Now(), level, clientMessage, 0)
	rec.AddAttrs(attrs...)
	_ = l.Handler().Handle(cc.ctx, rec)
}

// record records rpc.client.call.duration of the call, in the context of
// its span (for the exemplar).
func (cc *clientCall) record(dur time.Duration, code uint32, errorType string) {
	if !cc.metrics.Enabled(cc.ctx) {
		return
	}
	call := instrument.RPCClientCall{Service: cc.svc, Method: cc.method, Code: code, ErrorType: errorType}
	if cc.target != nil {
		call.Host, call.Port = cc.target.host, cc.target.port
	}
	cc.metrics.Record(cc.ctx, dur, call)
}
