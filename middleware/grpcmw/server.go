package grpcmw

import (
	"context"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors"
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

	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/trace"
)

// server holds the pieces the server interceptors are made of. It is a
// go-grpc-middleware interceptors.ServerReportable: the go-grpc-middleware
// reporter core drives it, and its recovery interceptor runs inside.
type server struct {
	c         *middleware.Config
	peers     peerCache
	report    grpc.UnaryServerInterceptor
	reportS   grpc.StreamServerInterceptor
	recUnary  grpc.UnaryServerInterceptor
	recStream grpc.StreamServerInterceptor
}

var _ interceptors.ServerReportable = (*server)(nil)

func newServer(opts []middleware.Option) *server {
	s := &server{c: middleware.NewConfig(opts...)}
	ropts := []recovery.Option{recovery.WithRecoveryHandlerContext(recoverPanic)}
	s.recUnary = recovery.UnaryServerInterceptor(ropts...)
	s.recStream = recovery.StreamServerInterceptor(ropts...)
	s.report = interceptors.UnaryServerInterceptor(s)
	s.reportS = interceptors.StreamServerInterceptor(s)
	return s
}

// UnaryServerInterceptor returns the glassbox server interceptor for unary
// calls. Outermost first it chains: go-grpc-middleware's reporter core
// driving glassbox's reporter (correlation ID from metadata
// x-correlation-id / x-request-id, server span with the RPC semantic
// conventions from traceparent/tracestate, baggage, the correlation ID sent
// back in the header metadata, observers, one access-log record per call
// at a level chosen by status code), then go-grpc-middleware's recovery
// interceptor (a panic becomes codes.Internal, an exception event on the
// span and an error record with the stack). Methods of
// grpc.health.v1.Health are passed through by default (see
// middleware.WithSkipGRPCMethods and middleware.WithFilter): no span, no
// access record, no observers, but panics are still recovered, since
// grpc-go does not recover them and the process would crash. A panic in a
// skipped call becomes codes.Internal with the correlation ID in the
// header metadata, an error record "panic recovered" with the stack, and
// the observers are begun and ended for it.
//
// The peer is network.peer.address (the host) and network.peer.port on
// the span; the record has the host, without the port, under the HTTP
// middleware's keys: client.ip for an IP address, else client.address
// (a unix socket's path, for example).
func UnaryServerInterceptor(opts ...middleware.Option) grpc.UnaryServerInterceptor {
	return newServer(opts).unary
}

// StreamServerInterceptor is UnaryServerInterceptor for streams. The
// handler's stream returns a context with the correlation ID, the span and
// the observers' values.
func StreamServerInterceptor(opts ...middleware.Option) grpc.StreamServerInterceptor {
	return newServer(opts).stream
}

// ServerOptions returns grpc.ChainUnaryInterceptor and
// grpc.ChainStreamInterceptor options with both server interceptors, for
// grpc.NewServer.
func ServerOptions(opts ...middleware.Option) []grpc.ServerOption {
	s := newServer(opts)
	return []grpc.ServerOption{grpc.ChainUnaryInterceptor(s.unary), grpc.ChainStreamInterceptor(s.stream)}
}

func (s *server) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	if s.c.SkipGRPC(info.FullMethod) {
		defer s.recoverSkipped(ctx, nil, info.FullMethod, time.Now(), &resp, &err)
		return handler(ctx, req)
	}
	cs := getState(s, info.FullMethod)
	cs.uinfo, cs.uhandler = info, handler
	// The state rides in the context from here on: ServerReporter finds it,
	// and so does the recovery handler.
	return s.report(context.WithValue(ctx, stateKey{}, cs), req, info, cs.recoverUnary)
}

func (s *server) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	if s.c.SkipGRPC(info.FullMethod) {
		defer s.recoverSkipped(nil, ss, info.FullMethod, time.Now(), nil, &err)
		return handler(srv, ss)
	}
	cs := getState(s, info.FullMethod)
	cs.sinfo, cs.shandler = info, handler
	return s.reportS(srv, &serverStream{ServerStream: ss, ctx: context.WithValue(ss.Context(), stateKey{}, cs)}, info, cs.recoverStream)
}

// recoverSkipped runs deferred for a skipped call (ctx is the unary
// call's context, ss the stream of a streaming one). Skipping drops the
// span, the access record and the observers, not the recovery: grpc-go
// does not recover handler panics, so one would crash the server. A panic
// becomes codes.Internal, as for instrumented calls; see skippedPanic.
// Without a panic it costs a deferred call and no allocation.
func (s *server) recoverSkipped(ctx context.Context, ss grpc.ServerStream, fullMethod string, start time.Time, resp *any, err *error) {
	p := recover()
	if p == nil {
		return
	}
	stack := debug.Stack()
	if resp != nil {
		*resp = nil
	}
	*err = s.skippedPanic(ctx, ss, fullMethod, p, stack, start)
}

// skippedPanic records the panic p of a skipped call and returns the
// codes.Internal error the client gets, without the panic value. The call
// gets its correlation ID only now, decided by Config.Inbound as for an
// instrumented call (a trusted peer's, else its trace ID, else a new
// one), and sent back in the header metadata if the handler has not sent
// it yet. The observers are begun and ended for the panic (they are not
// called for skipped calls otherwise), then the "panic recovered" error
// record is written with the stack and the RPC fields.
func (s *server) skippedPanic(ctx context.Context, ss grpc.ServerStream, fullMethod string, p any, stack []byte, start time.Time) error {
	c := s.c
	if ss != nil {
		ctx = ss.Context()
	}
	id, ok := trace.CorrelationID(ctx)
	if !ok {
		var peerAddr string
		if pr, ok := peer.FromContext(ctx); ok && pr.Addr != nil {
			peerAddr = s.peers.lookup(pr.Addr).raw
		}
		ctx, _ = c.Inbound(ctx, &incomingCarrier{ctx: ctx}, peerAddr)
		ctx, id = trace.EnsureCorrelationID(ctx)
	}
	md := metadata.MD{c.CorrelationMetadataKeys()[0]: []string{id}}
	if ss != nil {
		_ = ss.SetHeader(md)
	} else {
		_ = grpc.SetHeader(ctx, md)
	}
	err := status.Error(codes.Internal, "internal error")

	var eventID string
	if len(c.Observers()) > 0 {
		req := middleware.Request{Protocol: "grpc", Method: fullMethod, Route: fullMethod, CorrelationID: id}
		ctx = c.BeginObservers(ctx, &req)
		out := middleware.Outcome{GRPCCode: uint32(codes.Internal), Err: err, Panic: p, Stack: stack, Duration: time.Since(start)}
		eventID = c.EndObservers(ctx, &req, &out)
	}
	rp := middleware.NewRecoveredPanic(p, stack)
	svc, method := middleware.SplitGRPCMethod(fullMethod)
	logPanic(ctx, c, &rp, eventID, middleware.Sanitize(svc, 256), middleware.Sanitize(method, 256))
	return err
}

// logPanic writes the "panic recovered" record of a call, with its
// sanitised service and method.
func logPanic(ctx context.Context, c *middleware.Config, rp *middleware.RecoveredPanic, eventID, svc, method string) {
	c.LogPanic(ctx, rp, eventID,
		slog.String("rpc.system", "grpc"),
		slog.String("rpc.service", svc),
		slog.String("rpc.method", method),
	)
}

// serverStream replaces a stream's context.
type serverStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (w *serverStream) Context() context.Context { return w.ctx }

func getState(s *server, fullMethod string) *callState {
	cs := statePool.Get().(*callState)
	cs.s, cs.fullMethod = s, fullMethod
	return cs
}

// recoverUnaryImpl runs go-grpc-middleware's recovery interceptor around
// the call's handler. Its method value is made once per pooled state (see
// statePool), so calls do not allocate a closure.
func (cs *callState) recoverUnaryImpl(ctx context.Context, req any) (any, error) {
	return cs.s.recUnary(ctx, req, cs.uinfo, cs.uhandler)
}

// recoverStreamImpl is recoverUnaryImpl for streams.
func (cs *callState) recoverStreamImpl(srv any, ss grpc.ServerStream) error {
	return cs.s.recStream(srv, ss, cs.sinfo, cs.shandler)
}

// callState is one server call: the interceptors.Reporter of the call and
// the scratch space the recovery handler writes the panic into.
type callState struct {
	s          *server
	fullMethod string
	uinfo      *grpc.UnaryServerInfo
	uhandler   grpc.UnaryHandler
	sinfo      *grpc.StreamServerInfo
	shandler   grpc.StreamHandler
	// recoverUnary and recoverStream are the method values of
	// recoverUnaryImpl and recoverStreamImpl, made once per state.
	recoverUnary  grpc.UnaryHandler
	recoverStream grpc.StreamHandler
	ctx           context.Context
	span          oteltrace.Span
	typ           interceptors.GRPCType
	peer          peerInfo
	svc, method   string // sanitised
	rejected      int
	carrier       incomingCarrier
	panicked      bool
	panicVal      any
	stack         []byte
	req           middleware.Request
	out           middleware.Outcome
	attrs         [17]attribute.KeyValue
	nattrs        int
	logAttrs      [14]slog.Attr
}

var _ interceptors.Reporter = (*callState)(nil)

type stateKey struct{}

var statePool = sync.Pool{New: func() any {
	cs := new(callState)
	cs.recoverUnary, cs.recoverStream = cs.recoverUnaryImpl, cs.recoverStreamImpl
	return cs
}}

// release clears cs for its next call and returns it to the pool.
func (cs *callState) release() {
	ru, rs := cs.recoverUnary, cs.recoverStream
	*cs = callState{recoverUnary: ru, recoverStream: rs}
	statePool.Put(cs)
}

func stateFrom(ctx context.Context) *callState {
	cs, _ := ctx.Value(stateKey{}).(*callState)
	return cs
}

// recoverPanic is the recovery interceptor's handler: it keeps the panic
// and its stack for the observers and the records, and turns the panic
// into codes.Internal without leaking the value to the client.
func recoverPanic(ctx context.Context, p any) error {
	if cs := stateFrom(ctx); cs != nil {
		cs.panicked, cs.panicVal, cs.stack = true, p, debug.Stack()
	}
	return status.Error(codes.Internal, "internal error")
}

// ServerReporter starts the call: IDs, span, header metadata, observers.
func (s *server) ServerReporter(ctx context.Context, meta interceptors.CallMeta) (interceptors.Reporter, context.Context) {
	c := s.c
	cs := stateFrom(ctx)
	if cs == nil { // driven by something other than unary/stream
		cs = getState(s, "/"+meta.Service+"/"+meta.Method)
		ctx = context.WithValue(ctx, stateKey{}, cs)
	}
	cs.typ = meta.Typ
	cs.carrier = incomingCarrier{ctx: ctx}
	carrier := &cs.carrier
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		cs.peer = s.peers.lookup(p.Addr)
	}
	ctx, in := c.Inbound(ctx, carrier, cs.peer.raw)
	cs.rejected = in.Rejected
	var optBuf [4]oteltrace.SpanStartOption
	sopts := in.AppendSpanOptions(append(optBuf[:0], serverKind))
	cs.svc, cs.method = middleware.Sanitize(meta.Service, 256), middleware.Sanitize(meta.Method, 256)
	attrs := append(cs.attrs[:0],
		semconv.RPCSystemGRPC,
		semconv.RPCServiceKey.String(cs.svc),
		semconv.RPCMethodKey.String(cs.method),
	)
	// The RPC semantic conventions: the peer's host and port apart.
	if cs.peer.host != "" {
		attrs = append(attrs, semconv.NetworkPeerAddressKey.String(cs.peer.host))
	}
	if cs.peer.port > 0 {
		attrs = append(attrs, semconv.NetworkPeerPortKey.Int(cs.peer.port))
	}
	// Room is left for the attributes PostCall adds. The propagator is
	// done with the carrier: the correlation keys Inbound hid from it are
	// shown again, since WithRequestHeaders may name them (as on HTTP).
	carrier.ShowCorrelationKeys()
	attrs = c.AppendRequestMetadata(attrs, carrier, len(cs.attrs)-6)
	// The attributes are set when the call ends, in one SetAttributes call
	// (see the HTTP middleware): samplers see none.
	cs.nattrs = len(attrs)
	ctx, span := c.Tracer().Start(ctx, middleware.Sanitize(cs.fullMethod[min(1, len(cs.fullMethod)):], 512), sopts...)
	ctx, id := trace.EnsureCorrelationID(ctx)
	// A new map each call: a ServerTransportStream may keep the one it is
	// given (grpc-go's transports copy it, test doubles often do not).
	_ = grpc.SetHeader(ctx, metadata.MD{c.CorrelationMetadataKeys()[0]: []string{id}})
	cs.req = middleware.Request{Protocol: "grpc", Method: cs.fullMethod, Route: cs.fullMethod, CorrelationID: id}
	ctx = c.BeginObservers(ctx, &cs.req)
	cs.ctx, cs.span = ctx, span
	return cs, ctx
}

var serverKind = oteltrace.WithSpanKind(oteltrace.SpanKindServer)

// PostMsgSend is part of interceptors.Reporter; glassbox records nothing
// per message.
func (cs *callState) PostMsgSend(any, error, time.Duration) {}

// PostMsgReceive is part of interceptors.Reporter; glassbox records nothing
// per message.
func (cs *callState) PostMsgReceive(any, error, time.Duration) {}

// PostCall ends the call: observers, panic record, access-log record,
// span. It runs once, after the handler returned (a panic has become
// codes.Internal by then).
func (cs *callState) PostCall(err error, dur time.Duration) {
	s := cs.s
	c := s.c
	ctx := cs.ctx
	code := status.Code(err)

	var eventID string
	if len(c.Observers()) > 0 {
		cs.out = middleware.Outcome{GRPCCode: uint32(code), Err: err, Duration: dur}
		if cs.panicked {
			cs.out.Panic, cs.out.Stack = cs.panicVal, cs.stack
		}
		eventID = c.EndObservers(ctx, &cs.req, &cs.out)
	}

	span := cs.span
	attrs := append(cs.attrs[:cs.nattrs],
		semconv.RPCGRPCStatusCodeKey.Int(int(code)),
		attribute.String(middleware.AttrCorrelationID, cs.req.CorrelationID),
	)
	if cs.rejected > 0 {
		attrs = append(attrs, attribute.Int(middleware.AttrCorrelationIDRejected, cs.rejected))
	}
	var rp middleware.RecoveredPanic
	if cs.panicked {
		rp = middleware.NewRecoveredPanic(cs.panicVal, cs.stack)
		attrs = append(attrs, semconv.ErrorTypeKey.String(rp.Type))
		rp.RecordOnSpan(span)
	} else if serverError(code) {
		attrs = append(attrs, semconv.ErrorTypeKey.String(code.String()))
		span.SetStatus(otelcodes.Error, middleware.Sanitize(status.Convert(err).Message(), 1024))
	}
	span.SetAttributes(attrs...)
	span.End()

	l := c.Logger()
	svc, method := cs.svc, cs.method
	if cs.panicked {
		logPanic(ctx, c, &rp, eventID, svc, method)
	}
	level := c.GRPCCodeLevel(uint32(code))
	if cs.panicked {
		level = slog.LevelError
	}
	if l.Enabled(ctx, level) {
		la := append(cs.logAttrs[:0],
			slog.String("rpc.system", "grpc"),
			slog.String("rpc.service", svc),
			slog.String("rpc.method", method),
			slog.Int("rpc.grpc.status_code", int(code)),
			slog.Duration("event.duration", dur),
		)
		if cs.typ != interceptors.Unary {
			la = append(la, slog.String("rpc.grpc.method_type", string(cs.typ)))
		}
		// The HTTP middleware's keys: client.ip holds an IP address
		// (ECS type ip), client.address anything else.
		if cs.peer.ip {
			la = append(la, slog.String("client.ip", cs.peer.host))
		} else if cs.peer.host != "" {
			la = append(la, slog.String("client.address", cs.peer.host))
		}
		if err != nil && !cs.panicked {
			la = append(la, slog.String("error.message", middleware.Sanitize(status.Convert(err).Message(), 4096)))
		}
		if cs.rejected > 0 {
			la = append(la, slog.Int(middleware.AttrCorrelationIDRejected, cs.rejected))
		}
		if eventID != "" {
			la = append(la, slog.String(middleware.AttrErrorID, middleware.Sanitize(eventID, 64)))
		}
		rec := slog.NewRecord(time.Now(), level, accessMessage, 0)
		rec.AddAttrs(la...)
		middleware.HandleRecord(ctx, l.Handler(), rec)
	}
	cs.release()
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
