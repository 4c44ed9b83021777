package grpcmw

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	oteltrace "go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"go.opentelemetry.io/otel/baggage"

	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/trace"
)

// callState is one server call's scratch space, reachable from its context
// by the recovery handler and the logging fields function.
type callState struct {
	start    time.Time
	rejected int
	eventID  string
	panicked bool
	panicVal any
	stack    []byte
	req      middleware.Request
	out      middleware.Outcome
	attrs    [10]attribute.KeyValue
}

type stateKey struct{}

var statePool = sync.Pool{New: func() any { return new(callState) }}

func stateFrom(ctx context.Context) *callState {
	cs, _ := ctx.Value(stateKey{}).(*callState)
	return cs
}

// server holds the pieces the server interceptors are made of.
type server struct {
	c          *middleware.Config
	logUnary   grpc.UnaryServerInterceptor
	logStream  grpc.StreamServerInterceptor
	recUnary   grpc.UnaryServerInterceptor
	recStream  grpc.StreamServerInterceptor
	serverKind oteltrace.SpanStartOption
}

func newServer(opts []middleware.Option) *server {
	c := middleware.NewConfig(opts...)
	lopts := []logging.Option{
		logging.WithLogOnEvents(logging.FinishCall),
		logging.WithLevels(func(code codes.Code) logging.Level { return logging.Level(c.GRPCCodeLevel(uint32(code))) }),
		logging.WithDurationField(durationField),
		logging.WithFieldsFromContext(fieldsFromContext),
	}
	ropts := []recovery.Option{recovery.WithRecoveryHandlerContext(recoverPanic)}
	return &server{
		c:          c,
		logUnary:   logging.UnaryServerInterceptor(loggerFor(c, accessMessage), lopts...),
		logStream:  logging.StreamServerInterceptor(loggerFor(c, accessMessage), lopts...),
		recUnary:   recovery.UnaryServerInterceptor(ropts...),
		recStream:  recovery.StreamServerInterceptor(ropts...),
		serverKind: oteltrace.WithSpanKind(oteltrace.SpanKindServer),
	}
}

// fieldsFromContext adds glassbox's fields to the access-log record.
func fieldsFromContext(ctx context.Context) logging.Fields {
	cs := stateFrom(ctx)
	if cs == nil {
		return nil
	}
	var f logging.Fields
	if cs.rejected > 0 {
		f = append(f, middleware.AttrCorrelationIDRejected, cs.rejected)
	}
	if cs.eventID != "" {
		f = append(f, middleware.AttrErrorID, middleware.Sanitize(cs.eventID, 64))
	}
	return f
}

// recoverPanic is the recovery interceptor's handler: it keeps the panic
// and its stack for the observers and the error record, and turns the
// panic into codes.Internal without leaking the value to the client.
func recoverPanic(ctx context.Context, p any) error {
	if cs := stateFrom(ctx); cs != nil {
		cs.panicked, cs.panicVal, cs.stack = true, p, debug.Stack()
	}
	return status.Error(codes.Internal, "internal error")
}

// UnaryServerInterceptor returns the glassbox server interceptor for unary
// calls. It chains, outermost first: correlation ID and server span (RPC
// semantic conventions, IDs from metadata x-correlation-id, traceparent,
// tracestate, baggage; the correlation ID sent back in the header
// metadata), go-grpc-middleware's logging interceptor (one access-log
// record per call, fed to the configured slog logger, level by status
// code), the observers, and go-grpc-middleware's recovery interceptor
// (a panic becomes codes.Internal and an error record with the stack).
// Methods of grpc.health.v1.Health are passed through by default.
func UnaryServerInterceptor(opts ...middleware.Option) grpc.UnaryServerInterceptor {
	s := newServer(opts)
	return s.unary
}

// StreamServerInterceptor is UnaryServerInterceptor for streams. The
// handler's stream returns a context with the correlation ID, span and
// observer values.
func StreamServerInterceptor(opts ...middleware.Option) grpc.StreamServerInterceptor {
	s := newServer(opts)
	return s.stream
}

// ServerOptions returns grpc.ChainUnaryInterceptor and
// grpc.ChainStreamInterceptor options with both server interceptors, for
// grpc.NewServer.
func ServerOptions(opts ...middleware.Option) []grpc.ServerOption {
	s := newServer(opts)
	return []grpc.ServerOption{grpc.ChainUnaryInterceptor(s.unary), grpc.ChainStreamInterceptor(s.stream)}
}

// begin extracts the IDs, starts the span and sends the correlation ID
// back. It returns the context for the rest of the chain.
func (s *server) begin(ctx context.Context, fullMethod string, cs *callState, setHeader func(metadata.MD) error) (context.Context, oteltrace.Span) {
	c := s.c
	cs.start = time.Now()
	md, _ := metadata.FromIncomingContext(ctx)
	carrier := mdCarrier(md)
	ex := trace.ExtractCorrelationID(carrier, c.CorrelationMetadataKeys())
	cs.rejected = ex.Rejected

	var peerAddr string
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		peerAddr = p.Addr.String()
	}
	var optBuf [4]oteltrace.SpanStartOption
	sopts := append(optBuf[:0], s.serverKind)
	if c.PeerTrusted(peerAddr) {
		ctx = c.Propagator().Extract(ctx, carrier)
		if vals := md.Get("baggage"); len(vals) > 0 && !middleware.BaggageWithinLimits(vals) {
			ctx = baggage.ContextWithoutBaggage(ctx)
		}
		if ex.ID != "" {
			if cur, ok := trace.CorrelationID(ctx); !ok || cur != ex.ID {
				ctx = trace.WithCorrelationID(ctx, ex.ID)
			}
		}
	} else {
		sopts = append(sopts, oteltrace.WithNewRoot())
		if sc := oteltrace.SpanContextFromContext(c.Propagator().Extract(context.Background(), carrier)); sc.IsValid() {
			sopts = append(sopts, oteltrace.WithLinks(oteltrace.Link{SpanContext: sc}))
		}
	}
	svc, method := middleware.SplitGRPCMethod(fullMethod)
	svc, method = middleware.Sanitize(svc, 256), middleware.Sanitize(method, 256)
	attrs := append(cs.attrs[:0],
		semconv.RPCSystemGRPC,
		semconv.RPCServiceKey.String(svc),
		semconv.RPCMethodKey.String(method),
	)
	if peerAddr != "" {
		attrs = append(attrs, semconv.NetworkPeerAddressKey.String(middleware.Sanitize(peerAddr, 256)))
	}
	for _, k := range c.RequestMetadataKeys() {
		if vals := md.Get(k); len(vals) > 0 {
			attrs = append(attrs, attribute.StringSlice("rpc.grpc.request.metadata."+k, s.metadataValues(k, vals)))
		}
	}
	sopts = append(sopts, oteltrace.WithAttributes(attrs...))
	ctx, span := c.Tracer().Start(ctx, middleware.Sanitize(fullMethod[min(1, len(fullMethod)):], 512), sopts...)
	ctx, id := trace.EnsureCorrelationID(ctx)
	if ex.Rejected > 0 {
		span.SetAttributes(attribute.String(middleware.AttrCorrelationID, id), attribute.Int(middleware.AttrCorrelationIDRejected, ex.Rejected))
	} else {
		span.SetAttributes(attribute.String(middleware.AttrCorrelationID, id))
	}
	_ = setHeader(metadata.MD{c.CorrelationMetadataKeys()[0]: []string{id}})
	cs.req = middleware.Request{Protocol: "grpc", Method: fullMethod, Route: fullMethod, CorrelationID: id}
	return context.WithValue(ctx, stateKey{}, cs), span
}

func (s *server) metadataValues(key string, vals []string) []string {
	if len(vals) > 8 {
		vals = vals[:8]
	}
	out := make([]string, len(vals))
	redact := s.c.Redactor().Match(key)
	for i, v := range vals {
		if redact {
			out[i] = "[REDACTED]"
		} else {
			out[i] = middleware.Sanitize(v, 1024)
		}
	}
	return out
}

// end finishes the span after the whole chain returned.
func (s *server) end(span oteltrace.Span, cs *callState, err error) {
	code := status.Code(err)
	span.SetAttributes(semconv.RPCGRPCStatusCodeKey.Int(int(code)))
	if cs.panicked {
		msg, typ := middleware.Sanitize(fmt.Sprint(cs.panicVal), 4096), fmt.Sprintf("%T", cs.panicVal)
		span.AddEvent(semconv.ExceptionEventName, oteltrace.WithAttributes(
			semconv.ExceptionTypeKey.String(typ),
			semconv.ExceptionMessageKey.String(msg),
			semconv.ExceptionStacktraceKey.String(string(cs.stack)),
		))
		span.SetAttributes(semconv.ErrorTypeKey.String(typ))
		span.SetStatus(otelcodes.Error, "panic: "+msg)
	} else if serverError(code) {
		span.SetAttributes(semconv.ErrorTypeKey.String(code.String()))
		span.SetStatus(otelcodes.Error, middleware.Sanitize(status.Convert(err).Message(), 1024))
	}
	span.End()
}

// serverError reports the codes the RPC semantic conventions count as a
// server-side error.
func serverError(c codes.Code) bool {
	switch c {
	case codes.Unknown, codes.DeadlineExceeded, codes.Unimplemented, codes.Internal, codes.Unavailable, codes.DataLoss:
		return true
	}
	return false
}

// observe runs inside the logging interceptor: it calls the observers
// around the recovery interceptor and writes the panic record, so that the
// access-log record that follows carries the observers' event ID.
func (s *server) observe(ctx context.Context, cs *callState, call func(context.Context) error) error {
	obs := s.c.Observers()
	for _, o := range obs {
		ctx = o.Begin(ctx, &cs.req)
	}
	err := call(ctx)
	if len(obs) > 0 {
		cs.out = middleware.Outcome{GRPCCode: uint32(status.Code(err)), Err: err, Duration: time.Since(cs.start)}
		if cs.panicked {
			cs.out.Panic, cs.out.Stack = cs.panicVal, cs.stack
		}
		for i := len(obs) - 1; i >= 0; i-- {
			if id := obs[i].End(ctx, &cs.req, &cs.out); id != "" && cs.eventID == "" {
				cs.eventID = id
			}
		}
	}
	if cs.panicked {
		s.logPanic(ctx, cs)
	}
	return err
}

func (s *server) logPanic(ctx context.Context, cs *callState) {
	l := s.c.Logger()
	if !l.Enabled(ctx, slog.LevelError) {
		return
	}
	svc, method := middleware.SplitGRPCMethod(cs.req.Method)
	var buf [7]slog.Attr
	attrs := append(buf[:0],
		slog.String("error.message", middleware.Sanitize(fmt.Sprint(cs.panicVal), 4096)),
		slog.String("error.type", fmt.Sprintf("%T", cs.panicVal)),
		slog.String("error.stack_trace", string(cs.stack)),
		slog.String("rpc.system", "grpc"),
		slog.String("rpc.service", middleware.Sanitize(svc, 256)),
		slog.String("rpc.method", middleware.Sanitize(method, 256)),
	)
	if cs.eventID != "" {
		attrs = append(attrs, slog.String(middleware.AttrErrorID, middleware.Sanitize(cs.eventID, 64)))
	}
	rec := slog.NewRecord(time.Now(), slog.LevelError, "panic recovered", 0)
	rec.AddAttrs(attrs...)
	_ = l.Handler().Handle(ctx, rec)
}

func (s *server) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if s.c.SkipGRPC(info.FullMethod) {
		return handler(ctx, req)
	}
	cs := statePool.Get().(*callState)
	defer func() { *cs = callState{}; statePool.Put(cs) }()
	ctx, span := s.begin(ctx, info.FullMethod, cs, func(md metadata.MD) error { return grpc.SetHeader(ctx, md) })
	var resp any
	err := func() error {
		// The inner chain: logging -> observers -> recovery -> handler.
		var err error
		resp, err = s.logUnary(ctx, req, info, func(ctx context.Context, req any) (any, error) {
			var r any
			err := s.observe(ctx, cs, func(ctx context.Context) error {
				var err error
				r, err = s.recUnary(ctx, req, info, handler)
				return err
			})
			return r, err
		})
		return err
	}()
	s.end(span, cs, err)
	return resp, err
}

// serverStream gives the handler the instrumented context.
type serverStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (w *serverStream) Context() context.Context { return w.ctx }

func (s *server) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if s.c.SkipGRPC(info.FullMethod) {
		return handler(srv, ss)
	}
	cs := statePool.Get().(*callState)
	defer func() { *cs = callState{}; statePool.Put(cs) }()
	ctx, span := s.begin(ss.Context(), info.FullMethod, cs, ss.SetHeader)
	err := s.logStream(srv, &serverStream{ServerStream: ss, ctx: ctx}, info, func(srv any, ss grpc.ServerStream) error {
		return s.observe(ss.Context(), cs, func(ctx context.Context) error {
			return s.recStream(srv, &serverStream{ServerStream: ss, ctx: ctx}, info, handler)
		})
	})
	s.end(span, cs, err)
	return err
}
