package grpcmw

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	oteltrace "go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/glassbox-obs/glassbox/internal/textsafe"
	"github.com/glassbox-obs/glassbox/middleware/internal/instrument"
	"github.com/glassbox-obs/glassbox/trace"
)

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
	req           instrument.Request
	out           instrument.Outcome
	attrs         [20]attribute.KeyValue
	nattrs        int // attrs[:nattrs] are set when the call starts
	logAttrs      [14]slog.Attr
	sopts         [4]oteltrace.SpanStartOption // the server span's start options
}

var (
	_ interceptors.Reporter = (*callState)(nil)
	_ instrument.Protocol   = (*callState)(nil)
)

type stateKey struct{}

var statePool = sync.Pool{New: func() any {
	cs := new(callState)
	cs.recoverUnary, cs.recoverStream = cs.recoverUnaryImpl, cs.recoverStreamImpl
	return cs
}}

func getState(s *server, fullMethod string) *callState {
	cs := statePool.Get().(*callState)
	cs.s, cs.fullMethod = s, fullMethod
	return cs
}

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

var serverKind = oteltrace.WithSpanKind(oteltrace.SpanKindServer)

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
	pr, hasPeer := peer.FromContext(ctx)
	if hasPeer && pr.Addr != nil {
		cs.peer = s.peers.lookup(pr.Addr)
	}
	ctx, in := c.Inbound(ctx, carrier, cs.peer.raw)
	cs.rejected = in.Rejected
	sopts := in.AppendSpanOptions(append(cs.sopts[:0], serverKind))
	cs.svc, cs.method = textsafe.Sanitize(meta.Service, 256), textsafe.Sanitize(meta.Method, 256)
	ctx, grant := c.InboundDebug(ctx, carrier, in.Trusted, cs)
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
	attrs = appendServerAddress(attrs, pr, hasPeer, &s.peers)
	// Room is left for the attributes the end of the call adds. The
	// propagator is done with the carrier: the correlation keys Inbound
	// hid from it are shown again, since WithRequestHeaders may name them
	// (as on HTTP).
	carrier.ShowCorrelationKeys()
	attrs = appendRequestMetadata(c, attrs, carrier, len(cs.attrs)-6)
	// The attributes are set when the call ends, in one SetAttributes call
	// (see the HTTP middleware): samplers see none.
	cs.nattrs = len(attrs)
	ctx, span := c.Tracer.Start(ctx, textsafe.Sanitize(cs.fullMethod[min(1, len(cs.fullMethod)):], 512), sopts...)
	ctx, id := trace.EnsureCorrelationID(ctx)
	if in.Chosen(id) {
		// A new map each call: a ServerTransportStream may keep the one
		// it is given (grpc-go's transports copy it, test doubles often
		// do not).
		_ = grpc.SetHeader(ctx, metadata.MD{c.CorrMD[0]: []string{id}})
	}
	ctx = c.BeginScope(ctx, grant, cs)
	cs.req = instrument.Request{Protocol: "grpc", Method: cs.fullMethod, Route: cs.fullMethod, CorrelationID: id}
	c.Bind(ctx, &cs.req, incomingMetadata)
	ctx = c.BeginObservers(ctx, &cs.req)
	cs.ctx, cs.span = ctx, span
	return cs, ctx
}

// appendServerAddress appends server.address and server.port (RPC
// semantic conventions) of the connection's local address, as the peer
// reports it: the address the server was reached at.
func appendServerAddress(attrs []attribute.KeyValue, pr *peer.Peer, hasPeer bool, peers *peerCache) []attribute.KeyValue {
	if !hasPeer || pr.LocalAddr == nil {
		return attrs
	}
	local := peers.lookup(pr.LocalAddr)
	if local.host == "" {
		return attrs
	}
	attrs = append(attrs, semconv.ServerAddressKey.String(local.host))
	if local.port > 0 {
		attrs = append(attrs, semconv.ServerPortKey.Int(local.port))
	}
	return attrs
}

// PostMsgSend is part of interceptors.Reporter; glassbox records nothing
// per message.
func (cs *callState) PostMsgSend(any, error, time.Duration) {}

// PostMsgReceive is part of interceptors.Reporter; glassbox records nothing
// per message.
func (cs *callState) PostMsgReceive(any, error, time.Duration) {}

// PostCall ends the call through Config.Finish (observers, span, panic
// record, access record). It runs once, after the handler returned (a
// panic has become codes.Internal by then).
func (cs *callState) PostCall(err error, dur time.Duration) {
	st := status.Convert(err)
	cs.out = instrument.Outcome{GRPCCode: uint32(st.Code()), Err: err, Duration: dur}
	if cs.panicked {
		cs.out.Panic, cs.out.Stack = cs.panicVal, cs.stack
	}
	var msg string
	if err != nil {
		msg = st.Message()
	}
	cs.s.c.Finish(cs.ctx, &instrument.End{
		Req:           &cs.req,
		Out:           &cs.out,
		Span:          cs.span,
		Protocol:      cs,
		Rejected:      cs.rejected,
		StatusMessage: msg,
		SpanAttrs:     cs.attrs[:cs.nattrs],
		LogAttrs:      cs.logAttrs[:0],
	})
	cs.release()
}

// AppendSpanAttrs appends the status code to the attributes set when the
// call started (already in attrs).
func (cs *callState) AppendSpanAttrs(attrs []attribute.KeyValue) []attribute.KeyValue {
	return append(attrs, semconv.RPCGRPCStatusCodeKey.Int(int(cs.out.GRPCCode)))
}

// AppendAccessFields appends the RPC fields of the access record.
func (cs *callState) AppendAccessFields(la []slog.Attr) []slog.Attr {
	la = append(la,
		slog.String("rpc.system", "grpc"),
		slog.String("rpc.service", cs.svc),
		slog.String("rpc.method", cs.method),
		slog.Int("rpc.grpc.status_code", int(cs.out.GRPCCode)),
	)
	if cs.typ != interceptors.Unary {
		la = append(la, slog.String("rpc.grpc.method_type", string(cs.typ)))
	}
	return cs.appendPeer(la)
}

// AppendPanicFields appends the RPC fields that locate the call.
func (cs *callState) AppendPanicFields(la []slog.Attr) []slog.Attr {
	return appendRPCFields(la, cs.svc, cs.method)
}

// appendRPCFields appends rpc.system, rpc.service and rpc.method.
func appendRPCFields(la []slog.Attr, svc, method string) []slog.Attr {
	return append(la,
		slog.String("rpc.system", "grpc"),
		slog.String("rpc.service", svc),
		slog.String("rpc.method", method),
	)
}
