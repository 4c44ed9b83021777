package soak

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/glassbox-obs/glassbox"
	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/exporter/otlp"
	"github.com/glassbox-obs/glassbox/exporter/sentry"
	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/middleware/grpcmw"
)

// serviceEnv carries the service's settings (JSON) to the child process;
// its presence makes a binary that calls MaybeServe the service.
const serviceEnv = "GLASSBOX_SOAK_SERVICE"

// serviceConfig is what the service process needs: where the test
// servers are and how glassbox is configured.
type serviceConfig struct {
	ES         string `json:"es"`
	OTLP       string `json:"otlp"`
	SentryDSN  string `json:"sentry_dsn"`
	SpoolDir   string `json:"spool_dir,omitempty"`
	QueueBytes int64  `json:"queue_bytes"`
	OTLPQueue  int    `json:"otlp_queue"`
	// AppLogs is how many records the handler writes per request, on top
	// of the middleware's access record.
	AppLogs int `json:"app_logs"`
}

// serviceAddrs is the first line the service prints on stdout.
type serviceAddrs struct {
	HTTP, GRPC, Control string
}

// sample is what the service's control endpoint reports.
type sample struct {
	Stats      glassbox.Stats `json:"stats"`
	HeapLive   uint64         `json:"heap_live"`  // live heap marked by the last GC
	HeapInUse  uint64         `json:"heap_inuse"` // heap spans in use (live + not yet swept)
	RSS        uint64         `json:"rss"`
	Goroutines int            `json:"goroutines"`
	Errors     int64          `json:"errors"` // background failures passed to the error handler
	LastError  string         `json:"last_error,omitempty"`
}

// MaybeServe runs the soak's service and exits when the process was
// started as one (see Run); otherwise it returns at once. Call it first
// in TestMain or main.
func MaybeServe() {
	raw, ok := os.LookupEnv(serviceEnv)
	if !ok {
		return
	}
	var cfg serviceConfig
	err := json.Unmarshal([]byte(raw), &cfg)
	if err == nil {
		err = serve(cfg, os.Stdin, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak service:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// errCounter is the service's error handler: it counts background
// failures (the exporters' complaints during faults) and keeps the last.
type errCounter struct {
	n    atomic.Int64
	mu   sync.Mutex
	last string
}

// Handle counts err and keeps it as the last one.
func (e *errCounter) Handle(err error) {
	e.n.Add(1)
	e.mu.Lock()
	e.last = err.Error()
	e.mu.Unlock()
}

var _ otel.ErrorHandler = (*errCounter)(nil)

// serve is the service process: glassbox.Start against the test servers,
// an instrumented HTTP server and gRPC server on loopback, and an
// uninstrumented control server that reports samples and shuts down.
// It returns when its stdin closes (the parent died) or after /shutdown.
func serve(cfg serviceConfig, stdin io.Reader, stdout io.Writer) error {
	ctx := context.Background()
	eh := &errCounter{}
	esOpts := []elasticsearch.Option{
		elasticsearch.WithAddresses(cfg.ES),
		elasticsearch.WithTemplates(),
		elasticsearch.WithQueueBytes(cfg.QueueBytes),
		elasticsearch.WithDeadLetterFile(os.DevNull),
	}
	if cfg.SpoolDir != "" {
		esOpts = append(esOpts, elasticsearch.WithSpoolDir(cfg.SpoolDir),
			elasticsearch.WithSpoolMode(elasticsearch.SpoolAlways), elasticsearch.WithSpoolBytes(8<<30))
	}
	tel, err := glassbox.Start(ctx,
		glassbox.WithServiceName("soak"),
		glassbox.WithLogWriter(nil),
		glassbox.WithoutSetDefault(),
		glassbox.WithErrorHandler(eh),
		glassbox.WithElasticsearch(esOpts...),
		glassbox.WithOTLP(otlp.WithEndpointURL(cfg.OTLP), otlp.WithProtocol(otlp.ProtocolHTTPProtobuf),
			otlp.WithMaxQueueSize(cfg.OTLPQueue)),
		glassbox.WithSentry(sentry.WithDSN(cfg.SentryDSN), sentry.WithAggregationWindow(0)),
	)
	if err != nil {
		return err
	}
	app := &app{log: tel.Logger(), appLogs: cfg.AppLogs}
	mw := tel.MiddlewareOptions()

	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: middleware.HTTP(mw...)(http.HandlerFunc(app.serveHTTP)), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(hl) }()

	gl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	gs := grpc.NewServer(grpcmw.ServerOptions(mw...)...)
	gs.RegisterService(&payDesc, app)
	go func() { _ = gs.Serve(gl) }()

	cl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	done := make(chan []byte, 1)
	ctl := http.NewServeMux()
	ctl.HandleFunc("GET /sample", func(w http.ResponseWriter, _ *http.Request) {
		writeSample(w, tel, eh)
	})
	// Profiles of the service, to find what holds its memory:
	// go tool pprof http://<control>/debug/pprof/heap
	ctl.HandleFunc("/debug/pprof/", pprof.Index)
	ctl.HandleFunc("POST /shutdown", func(w http.ResponseWriter, r *http.Request) {
		d, _ := time.ParseDuration(r.URL.Query().Get("timeout"))
		sctx, cancel := context.WithTimeout(ctx, max(d, time.Second))
		defer cancel()
		_ = hs.Shutdown(sctx)
		gs.GracefulStop()
		err := tel.Shutdown(sctx)
		if err != nil {
			w.Header().Set("X-Shutdown-Error", strings.ReplaceAll(err.Error(), "\n", "; "))
		}
		writeSample(w, tel, eh)
		done <- nil
	})
	cs := &http.Server{Handler: ctl, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = cs.Serve(cl) }()

	if err := json.NewEncoder(stdout).Encode(serviceAddrs{HTTP: hl.Addr().String(), GRPC: gl.Addr().String(), Control: cl.Addr().String()}); err != nil {
		return err
	}
	parentGone := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, bufio.NewReader(stdin))
		close(parentGone)
	}()
	select {
	case <-done:
		// Let the /shutdown answer leave before the process exits.
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return cs.Shutdown(sctx)
	case <-parentGone:
		return errors.New("parent went away")
	}
}

func writeSample(w http.ResponseWriter, tel *glassbox.Telemetry, eh *errCounter) {
	s := sample{Stats: tel.Stats(), Goroutines: runtime.NumGoroutine(), Errors: eh.n.Load(), RSS: rss()}
	eh.mu.Lock()
	s.LastError = eh.last
	eh.mu.Unlock()
	ms := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(ms)
	s.HeapLive, s.HeapInUse = ms[0].Value.Uint64(), ms[1].Value.Uint64()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(s)
}

// rss is the process's resident set size from /proc/self/status, 0 where
// there is none.
func rss() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// app is the service's business logic: each request writes appLogs
// records through the request's context and answers; a request asking
// to fail logs an error and fails (HTTP 500, gRPC Internal), which the
// middleware reports to Sentry.
type app struct {
	log     *slog.Logger
	appLogs int
}

var errDeclined = errors.New("card declined by issuer")

func (a *app) work(ctx context.Context, order string, fail bool) error {
	for i := range a.appLogs {
		a.log.InfoContext(ctx, "checkout step", slog.Int("step", i), slog.String("order.id", order))
	}
	if fail {
		err := fmt.Errorf("order %s: %w", order, errDeclined)
		a.log.ErrorContext(ctx, "payment failed", slog.Any("error", err))
		return err
	}
	return nil
}

func (a *app) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if err := a.work(r.Context(), r.URL.Query().Get("order"), r.URL.Query().Get("fail") != ""); err != nil {
		http.Error(w, "payment failed", http.StatusInternalServerError)
		return
	}
	_, _ = io.WriteString(w, "ok")
}

// pay is the gRPC method: the order in a StringValue; "fail:" in front
// asks it to fail.
func (a *app) pay(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
	order, fail := strings.CutPrefix(in.GetValue(), "fail:")
	if err := a.work(ctx, order, fail); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return wrapperspb.String("ok"), nil
}

// payMethod is the gRPC method's full name.
const payMethod = "/soak.Checkout/Pay"

// payDesc registers pay without generated code.
var payDesc = grpc.ServiceDesc{
	ServiceName: "soak.Checkout",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Pay",
		Handler: func(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.StringValue)
			if err := dec(in); err != nil {
				return nil, err
			}
			h := func(ctx context.Context, req any) (any, error) {
				return srv.(*app).pay(ctx, req.(*wrapperspb.StringValue))
			}
			if icpt == nil {
				return h(ctx, in)
			}
			return icpt(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: payMethod}, h)
		},
	}},
}
