package grpcmw

import (
	"context"
	"runtime/debug"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/glassbox-obs/glassbox/internal/textsafe"
	"github.com/glassbox-obs/glassbox/middleware/internal/instrument"
	"github.com/glassbox-obs/glassbox/trace"
)

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
// one), and sent back in the header metadata, if the handler has not sent
// it yet, when the server chose it (as for instrumented calls). The
// observers are begun and ended for the panic (they are not called for
// skipped calls otherwise), then the "panic recovered" error record is
// written with the stack and the RPC fields.
func (s *server) skippedPanic(ctx context.Context, ss grpc.ServerStream, fullMethod string, p any, stack []byte, start time.Time) error {
	c := s.c
	if ss != nil {
		ctx = ss.Context()
	}
	id, had := trace.CorrelationID(ctx)
	echo := had // an ID set before the interceptor is the server's own
	if !had {
		var peerAddr string
		if pr, ok := peer.FromContext(ctx); ok && pr.Addr != nil {
			peerAddr = s.peers.lookup(pr.Addr).raw
		}
		var in instrument.Inbound
		ctx, in = c.Inbound(ctx, &incomingCarrier{ctx: ctx}, peerAddr)
		ctx, id = trace.EnsureCorrelationID(ctx)
		echo = in.Chosen(id)
	}
	if echo {
		md := metadata.MD{c.CorrMD[0]: []string{id}}
		if ss != nil {
			_ = ss.SetHeader(md)
		} else {
			_ = grpc.SetHeader(ctx, md)
		}
	}
	err := status.Error(codes.Internal, "internal error")
	req := instrument.Request{Protocol: "grpc", Method: fullMethod, Route: fullMethod, CorrelationID: id}
	c.Bind(ctx, &req, incomingMetadata)
	out := instrument.Outcome{GRPCCode: uint32(codes.Internal), Err: err, Panic: p, Stack: stack, Duration: time.Since(start)}
	svc, method := splitGRPCMethod(fullMethod)
	c.ReportSkippedPanic(ctx, &req, fullMethod, &out, appendRPCFields(nil, textsafe.Sanitize(svc, 256), textsafe.Sanitize(method, 256))...)
	return err
}
