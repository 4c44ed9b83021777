package grpcmw

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	oteltrace "go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/trace"
)

type client struct {
	c         *middleware.Config
	logUnary  grpc.UnaryClientInterceptor
	logStream grpc.StreamClientInterceptor
}

func newClient(opts []middleware.Option) *client {
	c := middleware.NewConfig(opts...)
	lopts := []logging.Option{
		logging.WithLogOnEvents(logging.FinishCall),
		logging.WithLevels(func(code codes.Code) logging.Level {
			if code == codes.OK {
				return logging.LevelDebug
			}
			return logging.Level(c.GRPCCodeLevel(uint32(code)))
		}),
		logging.WithDurationField(durationField),
	}
	return &client{
		c:         c,
		logUnary:  logging.UnaryClientInterceptor(loggerFor(c, clientMessage), lopts...),
		logStream: logging.StreamClientInterceptor(loggerFor(c, clientMessage), lopts...),
	}
}

// UnaryClientInterceptor returns the glassbox client interceptor for unary
// calls: a client span (RPC semantic conventions), the correlation ID
// (x-correlation-id), traceparent, tracestate and baggage added to the
// outgoing metadata from the context, and go-grpc-middleware's logging
// interceptor writing one record per call (Debug when OK, else by
// WithGRPCCodeLevel).
func UnaryClientInterceptor(opts ...middleware.Option) grpc.UnaryClientInterceptor {
	cl := newClient(opts)
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, callOpts ...grpc.CallOption) error {
		ctx, span := cl.start(ctx, method)
		err := cl.logUnary(ctx, method, req, reply, cc, invoker, callOpts...)
		endClientSpan(span, err)
		return err
	}
}

// StreamClientInterceptor is UnaryClientInterceptor for streams. The span
// ends when the stream ends: RecvMsg returns an error (io.EOF included) or
// creating the stream failed.
func StreamClientInterceptor(opts ...middleware.Option) grpc.StreamClientInterceptor {
	cl := newClient(opts)
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, callOpts ...grpc.CallOption) (grpc.ClientStream, error) {
		ctx, span := cl.start(ctx, method)
		cs, err := cl.logStream(ctx, desc, cc, method, streamer, callOpts...)
		if err != nil {
			endClientSpan(span, err)
			return nil, err
		}
		return &clientStream{ClientStream: cs, span: span}, nil
	}
}

// DialOptions returns grpc.WithChainUnaryInterceptor and
// grpc.WithChainStreamInterceptor options with both client interceptors.
func DialOptions(opts ...middleware.Option) []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithChainUnaryInterceptor(UnaryClientInterceptor(opts...)),
		grpc.WithChainStreamInterceptor(StreamClientInterceptor(opts...)),
	}
}

var clientKind = oteltrace.WithSpanKind(oteltrace.SpanKindClient)

func (cl *client) start(ctx context.Context, fullMethod string) (context.Context, oteltrace.Span) {
	c := cl.c
	svc, method := middleware.SplitGRPCMethod(fullMethod)
	var buf [4]attribute.KeyValue
	attrs := append(buf[:0],
		semconv.RPCSystemGRPC,
		semconv.RPCServiceKey.String(middleware.Sanitize(svc, 256)),
		semconv.RPCMethodKey.String(middleware.Sanitize(method, 256)),
	)
	if id, ok := trace.CorrelationID(ctx); ok {
		attrs = append(attrs, attribute.String(middleware.AttrCorrelationID, id))
	}
	ctx, span := c.Tracer().Start(ctx, middleware.Sanitize(fullMethod[min(1, len(fullMethod)):], 512), clientKind, oteltrace.WithAttributes(attrs...))
	md, ok := metadata.FromOutgoingContext(ctx)
	if ok {
		md = md.Copy()
	} else {
		md = metadata.MD{}
	}
	c.Propagator().Inject(ctx, mdCarrier(md))
	if id, ok := trace.CorrelationID(ctx); ok {
		md[c.CorrelationMetadataKeys()[0]] = []string{id}
	}
	return metadata.NewOutgoingContext(ctx, md), span
}

func endClientSpan(span oteltrace.Span, err error) {
	code := status.Code(err)
	span.SetAttributes(semconv.RPCGRPCStatusCodeKey.Int(int(code)))
	if code != codes.OK {
		span.SetAttributes(semconv.ErrorTypeKey.String(code.String()))
		span.SetStatus(otelcodes.Error, middleware.Sanitize(status.Convert(err).Message(), 1024))
	}
	span.End()
}

type clientStream struct {
	grpc.ClientStream
	span oteltrace.Span
	once sync.Once
}

func (s *clientStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if err != nil {
		s.finish(err)
	}
	return err
}

func (s *clientStream) Header() (metadata.MD, error) {
	md, err := s.ClientStream.Header()
	if err != nil {
		s.finish(err)
	}
	return md, err
}

func (s *clientStream) finish(err error) {
	s.once.Do(func() {
		if errors.Is(err, io.EOF) {
			err = nil
		}
		endClientSpan(s.span, err)
	})
}
