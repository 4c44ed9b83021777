package grpcmw_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/middleware/breakglass"
)

// infoService is a service whose logger is at INFO, with a flight
// recorder.
type infoService struct {
	logs   *syncBuffer
	logger *slog.Logger
	rec    *log.FlightRecorder
	tp     *sdktrace.TracerProvider
}

func newInfoService(t *testing.T) *infoService {
	t.Helper()
	s := &infoService{logs: &syncBuffer{}, rec: log.NewFlightRecorder(), tp: sdktrace.NewTracerProvider()}
	t.Cleanup(func() { _ = s.tp.Shutdown(context.Background()) })
	s.logger = slog.New(log.NewHandler(log.WithWriter(s.logs), log.WithFlightRecorder(s.rec)))
	return s
}

func (s *infoService) opts(extra ...middleware.Option) []middleware.Option {
	return append([]middleware.Option{
		middleware.WithTracerProvider(s.tp), middleware.WithLogger(s.logger), middleware.WithFlightRecorder(s.rec),
	}, extra...)
}

func summary(t *testing.T, buf *syncBuffer) string {
	t.Helper()
	var out []string
	for _, r := range records(t, buf) {
		s, _ := r["message"].(string)
		if r["glassbox.replayed"] == true {
			s += "*"
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}

// The flight recorder on gRPC: a failed call's DEBUG records are written
// before the records of the failure; a successful or merely refused
// one's are not.
func TestFlightRecorderGRPC(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"Internal", status.Error(codes.Internal, "db down"), "a*, b*, request completed"},
		{"Unavailable", status.Error(codes.Unavailable, "later"), "a*, b*, request completed"},
		{"DeadlineExceeded (a server error, at WARN)", status.Error(codes.DeadlineExceeded, "slow"), "a*, b*, request completed"},
		{"NotFound is not a failure", status.Error(codes.NotFound, "no such order"), "request completed"},
		{"OK", nil, "request completed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newInfoService(t)
			conn := bufServer(t, s.opts(), nil, echoFuncs{unary: func(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
				s.logger.DebugContext(ctx, "a")
				s.logger.DebugContext(ctx, "b")
				return in, tt.err
			}})
			_, _ = callUnary(context.Background(), conn, "x")
			if got := summary(t, s.logs); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("NotFound made ERROR by WithGRPCCodeLevel", func(t *testing.T) {
		s := newInfoService(t)
		level := middleware.WithGRPCCodeLevel(func(code uint32) slog.Level {
			if codes.Code(code) == codes.NotFound {
				return slog.LevelError
			}
			return middleware.DefaultGRPCCodeLevel(code)
		})
		conn := bufServer(t, s.opts(level), nil, echoFuncs{unary: func(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
			s.logger.DebugContext(ctx, "a")
			return in, status.Error(codes.NotFound, "no such order")
		}})
		_, _ = callUnary(context.Background(), conn, "x")
		if got, want := summary(t, s.logs), "a*, request completed"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("panic", func(t *testing.T) {
		s := newInfoService(t)
		conn := bufServer(t, s.opts(), nil, echoFuncs{unary: func(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
			s.logger.DebugContext(ctx, "a")
			panic("boom")
		}})
		_, _ = callUnary(context.Background(), conn, "x")
		if got, want := summary(t, s.logs), "a*, panic recovered, request completed"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("stream", func(t *testing.T) {
		s := newInfoService(t)
		conn := bufServer(t, s.opts(), nil, echoFuncs{stream: func(stream grpc.ServerStream) error {
			s.logger.DebugContext(stream.Context(), "streamed")
			return status.Error(codes.DataLoss, "lost")
		}})
		st, err := conn.NewStream(context.Background(), &echoDesc.Streams[0], "/test.Echo/Stream")
		if err != nil {
			t.Fatal(err)
		}
		_ = st.CloseSend()
		_ = st.RecvMsg(new(wrapperspb.StringValue))
		testWait(t, s.logs, "request completed")
		if got, want := summary(t, s.logs), "streamed*, request completed"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
}

// testWait waits until text was written to buf.
func testWait(t *testing.T, buf *syncBuffer, text string) {
	t.Helper()
	select {
	case <-buf.Written(text):
	case <-time.After(10 * time.Second):
		t.Fatalf("%q not written; logs:\n%s", text, buf.String())
	}
}

// A token in x-glassbox-debug debugs the call; refused ones are counted.
func TestBreakGlassGRPC(t *testing.T) {
	key := breakglass.Key{ID: "ops", Secret: []byte("0123456789abcdef0123456789abcdef")}
	mint := func(route, service string) string {
		tok, err := breakglass.Mint(key, time.Minute, route, service)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tests := []struct {
		name      string
		token     string
		wantDebug bool
		want      breakglass.Stats
	}{
		{"unscoped", mint("", ""), true, breakglass.Stats{Accepted: 1}},
		{"this method", mint("/test.Echo/Unary", "ledger"), true, breakglass.Stats{Accepted: 1}},
		{"this service's methods", mint("/test.Echo/", ""), true, breakglass.Stats{Accepted: 1}},
		{"another method", mint("/test.Echo/Stream", ""), false, breakglass.Stats{WrongScope: 1}},
		{"another service", mint("", "checkout"), false, breakglass.Stats{WrongScope: 1}},
		{"malformed", "gbd1.ops", false, breakglass.Stats{Malformed: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newInfoService(t)
			bg, err := breakglass.New("ledger", []breakglass.Key{key}, 0)
			if err != nil {
				t.Fatal(err)
			}
			conn := bufServer(t, s.opts(middleware.WithBreakGlass(bg)), nil, echoFuncs{unary: func(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
				s.logger.DebugContext(ctx, "debug detail")
				return in, nil
			}})
			ctx := metadata.AppendToOutgoingContext(context.Background(), "x-glassbox-debug", tt.token)
			if _, err := callUnary(ctx, conn, "x"); err != nil {
				t.Fatal(err)
			}
			want := "request completed"
			if tt.wantDebug {
				want = "break-glass debugging on, debug detail, request completed"
				a := recordsWith(t, s.logs, "break-glass debugging on")[0]
				if a["rpc.service"] != "test.Echo" || a["rpc.method"] != "Unary" || a["event.category"] != "iam" || a["correlation.id"] == nil {
					t.Errorf("audit: %v", a)
				}
			}
			if got := summary(t, s.logs); got != want {
				t.Errorf("got %q, want %q", got, want)
			}
			if strings.Contains(s.logs.String(), tt.token) {
				t.Error("the token is in the logs")
			}
			if got := bg.Stats(); got != tt.want {
				t.Errorf("stats: got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// Outcome-aware sampling on gRPC: failed calls always keep their access
// record; successful ones of unsampled traces keep 1 in N.
func TestAccessSamplingGRPC(t *testing.T) {
	logs := &syncBuffer{}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	logger := slog.New(log.NewHandler(log.WithWriter(logs)))
	conn := bufServer(t, []middleware.Option{middleware.WithTracerProvider(tp), middleware.WithLogger(logger), middleware.WithAccessSampling(1000, 0)}, nil,
		echoFuncs{unary: func(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
			if in.GetValue() == "fail" {
				return nil, status.Error(codes.Internal, "db down")
			}
			return in, nil
		}})
	for i := 0; i < 40; i++ {
		_, _ = callUnary(context.Background(), conn, "ok")
		_, _ = callUnary(context.Background(), conn, "fail")
	}
	failed := 0
	for _, r := range records(t, logs) {
		if r["rpc.grpc.status_code"] == float64(codes.Internal) {
			failed++
			if r["glassbox.sample_rate"] != 1.0 {
				t.Errorf("failed call's rate: %v", r["glassbox.sample_rate"])
			}
		}
	}
	if failed != 40 {
		t.Errorf("got %d access records of failed calls, want all 40", failed)
	}
	if n := len(records(t, logs)); n > 45 {
		t.Errorf("got %d access records, want the 40 failures and about none of the 40 successes", n)
	}
}
