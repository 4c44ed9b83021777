package otlptest

import (
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	_ "google.golang.org/grpc/encoding/gzip" // the server must accept gzip-compressed requests
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Signal names the kind of telemetry of a request.
type Signal string

// The signals the server accepts.
const (
	Traces  Signal = "traces"
	Logs    Signal = "logs"
	Metrics Signal = "metrics"
)

// Fault is how the server answers a request instead of accepting it.
type Fault struct {
	// Code is the gRPC status code a gRPC server answers with. An HTTP
	// server maps it to the status the OTLP/HTTP spec pairs with it
	// (Unavailable 503, ResourceExhausted 429, others 400) unless
	// HTTPStatus is set.
	Code codes.Code
	// HTTPStatus is the status an HTTP server answers with.
	HTTPStatus int
	// RetryAfter, when positive, is sent as a google.rpc.RetryInfo detail
	// (gRPC) or a Retry-After header in whole seconds, rounded up (HTTP).
	RetryAfter time.Duration
	// Hang makes the server hold the request without answering until the
	// client gives up, Release is called or the server stops.
	Hang bool
}

// Request is what the server saw of one export request.
type Request struct {
	Signal Signal
	// Time is when the request arrived.
	Time time.Time
	// Header holds the HTTP headers or the gRPC metadata (use Get).
	Header http.Header
	// Path is the HTTP path, or the gRPC full method name.
	Path string
	// Gzip reports whether the body was gzip-compressed.
	Gzip bool
	// Deadline is the time the client allowed for the call (gRPC only;
	// zero when the client set no deadline).
	Deadline time.Duration
	// Items is the number of spans or log records in the request.
	Items int
	// Fault is the fault answered, or nil when the request was accepted.
	Fault *Fault
	// Body is the request's protobuf payload: for HTTP the body as sent,
	// gunzipped; for gRPC the received message encoded again (the same
	// fields and string bytes, as gRPC hands the server a decoded message).
	Body []byte
}

// Span is one received span with the resource and scope it came with.
type Span struct {
	Resource *resourcepb.Resource
	Scope    *commonpb.InstrumentationScope
	Span     *tracepb.Span
}

// LogRecord is one received log record with its resource and scope.
type LogRecord struct {
	Resource *resourcepb.Resource
	Scope    *commonpb.InstrumentationScope
	Record   *logspb.LogRecord
}

// Option configures a Server.
type Option interface{ apply(*serverConfig) }

type optionFunc func(*serverConfig)

func (f optionFunc) apply(c *serverConfig) { f(c) }

type serverConfig struct {
	cert     *tls.Certificate
	clientCA *x509.CertPool
}

// WithTLS makes the server speak TLS with cert (see NewCertificate).
func WithTLS(cert tls.Certificate) Option {
	return optionFunc(func(c *serverConfig) { c.cert = &cert })
}

// WithClientCA makes a TLS server require a client certificate signed by
// one of pool's authorities.
func WithClientCA(pool *x509.CertPool) Option {
	return optionFunc(func(c *serverConfig) { c.clientCA = pool })
}

// Server is a recording OTLP collector. Its methods are safe for
// concurrent use.
type Server struct {
	endpoint string
	addr     string

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every request
	requests []Request
	spans    []Span
	logs     []LogRecord
	metrics  []Metric
	faults   map[Signal][]Fault // consumed one per request
	sticky   map[Signal]*Fault  // answered until cleared
	release  chan struct{}      // closed by Release to free hanging requests
	closing  chan struct{}
	stopOnce sync.Once
	stop     func()

	// The listener, reopened on the same address by SetRefused(false).
	serve    func(net.Listener) error
	wrap     func(net.Listener) net.Listener // TLS for HTTP; nil otherwise
	lnMu     sync.Mutex
	ln       net.Listener
	conns    map[*trackedConn]struct{}
	refused  bool
	serveWG  sync.WaitGroup
	stopping bool

	soak soakState // phase-long controls (soak.go)
}

func newServer() *Server {
	return &Server{
		changed: make(chan struct{}),
		faults:  map[Signal][]Fault{},
		sticky:  map[Signal]*Fault{},
		release: make(chan struct{}),
		closing: make(chan struct{}),
		conns:   map[*trackedConn]struct{}{},
	}
}

func (c *serverConfig) tlsConfig() *tls.Config {
	if c.cert == nil {
		return nil
	}
	tc := &tls.Config{Certificates: []tls.Certificate{*c.cert}, MinVersion: tls.VersionTLS12}
	if c.clientCA != nil {
		tc.ClientCAs = c.clientCA
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return tc
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("otlptest: listen: %v", err)
	}
	return ln
}

// NewHTTP starts an OTLP/HTTP collector (protobuf bodies, optional gzip) at
// /v1/traces, /v1/logs and /v1/metrics. It stops when the test ends.
func NewHTTP(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, ln, scheme, tc := setup(t, opts)
	if tc != nil {
		s.wrap = func(ln net.Listener) net.Listener { return tls.NewListener(ln, tc) }
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/traces", func(w http.ResponseWriter, r *http.Request) { s.serveHTTP(w, r, Traces) })
	mux.HandleFunc("/v1/logs", func(w http.ResponseWriter, r *http.Request) { s.serveHTTP(w, r, Logs) })
	mux.HandleFunc("/v1/metrics", func(w http.ResponseWriter, r *http.Request) { s.serveHTTP(w, r, Metrics) })
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return s.start(t, ln, scheme, hs.Serve, func() { _ = hs.Close() })
}

// NewGRPC starts an OTLP/gRPC collector (trace, logs and metrics
// services, gzip accepted). It stops when the test ends.
func NewGRPC(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, ln, scheme, tc := setup(t, opts)
	gopts := []grpc.ServerOption{grpc.StatsHandler(compressionRecorder{})}
	if tc != nil {
		gopts = append(gopts, grpc.Creds(credentials.NewTLS(tc)))
	}
	gs := grpc.NewServer(gopts...)
	coltracepb.RegisterTraceServiceServer(gs, traceService{s: s})
	collogspb.RegisterLogsServiceServer(gs, logsService{s: s})
	colmetricspb.RegisterMetricsServiceServer(gs, metricsService{s: s})
	return s.start(t, ln, scheme, gs.Serve, gs.Stop)
}

// setup applies opts and opens the loopback listener; tc is the server's
// TLS configuration, nil for plaintext.
func setup(t testing.TB, opts []Option) (s *Server, ln net.Listener, scheme string, tc *tls.Config) {
	t.Helper()
	var cfg serverConfig
	for _, o := range opts {
		o.apply(&cfg)
	}
	scheme = "http"
	if tc = cfg.tlsConfig(); tc != nil {
		scheme = "https"
	}
	return newServer(), listen(t), scheme, tc
}

// start serves ln in the background and makes Close (run at test cleanup)
// stop the server and wait for it.
func (s *Server) start(t testing.TB, ln net.Listener, scheme string, serve func(net.Listener) error, stop func()) *Server {
	s.serve = serve
	s.addr = ln.Addr().String()
	s.endpoint = scheme + "://" + s.addr
	s.lnMu.Lock()
	s.serveLocked(ln)
	s.lnMu.Unlock()
	s.stop = func() {
		s.lnMu.Lock()
		s.stopping = true
		s.lnMu.Unlock()
		stop()
		s.serveWG.Wait()
	}
	t.Cleanup(s.Close)
	return s
}

// Endpoint is the server's base URL, "http://127.0.0.1:port" (https with
// TLS), as OTEL_EXPORTER_OTLP_ENDPOINT expects it.
func (s *Server) Endpoint() string { return s.endpoint }

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.addr }

// Close stops the server, freeing hanging requests first. It is called by
// the test's cleanup; calling it earlier simulates a collector going away.
func (s *Server) Close() {
	s.stopOnce.Do(func() {
		close(s.closing)
		s.stop()
	})
}

// FailNext makes the next n requests of signal answer with f.
func (s *Server) FailNext(sig Signal, n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[sig] = append(s.faults[sig], f)
	}
}

// FailAll makes every request of signal answer with f until ClearFaults.
func (s *Server) FailAll(sig Signal, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sticky[sig] = &f
}

// ClearFaults removes every pending fault, and releases hanging requests.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = map[Signal][]Fault{}
	s.sticky = map[Signal]*Fault{}
	s.mu.Unlock()
	s.Release()
}

// Release frees the requests hanging now; they are answered with
// Unavailable (503 over HTTP), as a collector restarting would.
func (s *Server) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.release)
	s.release = make(chan struct{})
}

// Requests returns every request of signal seen so far, in arrival order.
func (s *Server) Requests(sig Signal) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.requests {
		if r.Signal == sig {
			out = append(out, r)
		}
	}
	return out
}

// Spans returns the spans accepted so far.
func (s *Server) Spans() []Span {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Span(nil), s.spans...)
}

// Logs returns the log records accepted so far.
func (s *Server) Logs() []LogRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]LogRecord(nil), s.logs...)
}

// WaitTimeout is how long the Wait methods wait before failing the test.
const WaitTimeout = 15 * time.Second

// WaitSpans waits until at least n spans were accepted and returns them.
func (s *Server) WaitSpans(t testing.TB, n int) []Span {
	t.Helper()
	if !s.WaitFor(WaitTimeout, func() bool { return len(s.Spans()) >= n }) {
		t.Fatalf("otlptest: got %d spans after %v, want %d", len(s.Spans()), WaitTimeout, n)
	}
	return s.Spans()
}

// WaitLogs waits until at least n log records were accepted and returns them.
func (s *Server) WaitLogs(t testing.TB, n int) []LogRecord {
	t.Helper()
	if !s.WaitFor(WaitTimeout, func() bool { return len(s.Logs()) >= n }) {
		t.Fatalf("otlptest: got %d log records after %v, want %d", len(s.Logs()), WaitTimeout, n)
	}
	return s.Logs()
}

// WaitRequests waits until at least n requests of signal arrived (accepted
// or not) and returns them.
func (s *Server) WaitRequests(t testing.TB, sig Signal, n int) []Request {
	t.Helper()
	if !s.WaitFor(WaitTimeout, func() bool { return len(s.Requests(sig)) >= n }) {
		t.Fatalf("otlptest: got %d %s requests after %v, want %d", len(s.Requests(sig)), sig, WaitTimeout, n)
	}
	return s.Requests(sig)
}

// WaitFor waits until cond is true or timeout passes, evaluating cond
// again after every request; it reports whether cond held. cond may call
// the server's methods.
func (s *Server) WaitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return cond()
		}
	}
}

// admit records a request and decides its fate: the fault to answer and,
// for hanging faults, the channel that frees it.
func (s *Server) admit(req Request) (*Fault, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var f *Fault
	if q := s.faults[req.Signal]; len(q) > 0 {
		f = &q[0]
		s.faults[req.Signal] = q[1:]
	} else if sf := s.sticky[req.Signal]; sf != nil {
		c := *sf
		f = &c
	}
	req.Fault = f
	s.requests = append(s.requests, req)
	s.notifyLocked()
	return f, s.release
}

func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) acceptTraces(req *coltracepb.ExportTraceServiceRequest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				s.spans = append(s.spans, Span{Resource: rs.GetResource(), Scope: ss.GetScope(), Span: sp})
			}
		}
	}
	s.notifyLocked()
}

func (s *Server) acceptLogs(req *collogspb.ExportLogsServiceRequest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rl := range req.GetResourceLogs() {
		for _, sl := range rl.GetScopeLogs() {
			for _, lr := range sl.GetLogRecords() {
				s.logs = append(s.logs, LogRecord{Resource: rl.GetResource(), Scope: sl.GetScope(), Record: lr})
			}
		}
	}
	s.notifyLocked()
}

func countSpans(req *coltracepb.ExportTraceServiceRequest) int {
	n := 0
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			n += len(ss.GetSpans())
		}
	}
	return n
}

func countLogs(req *collogspb.ExportLogsServiceRequest) int {
	n := 0
	for _, rl := range req.GetResourceLogs() {
		for _, sl := range rl.GetScopeLogs() {
			n += len(sl.GetLogRecords())
		}
	}
	return n
}

// hang blocks until the request is freed; it reports whether the client
// is still waiting for an answer.
func (s *Server) hang(ctx context.Context, release <-chan struct{}) bool {
	select {
	case <-ctx.Done():
		return false
	case <-s.closing:
		return false
	case <-release:
		return true
	}
}

// --- HTTP ---

// maxBody bounds request bodies, as collectors do.
const maxBody = 32 << 20

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request, sig Signal) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-protobuf" {
		http.Error(w, "unsupported content type "+strconv.Quote(ct), http.StatusUnsupportedMediaType)
		return
	}
	var body io.Reader = http.MaxBytesReader(w, r.Body, maxBody)
	gz := false
	switch enc := strings.ToLower(r.Header.Get("Content-Encoding")); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			writeHTTPStatus(w, http.StatusBadRequest, codes.InvalidArgument, "bad gzip body", 0)
			return
		}
		defer zr.Close()
		body, gz = zr, true
	default:
		writeHTTPStatus(w, http.StatusUnsupportedMediaType, codes.InvalidArgument, "unsupported encoding "+enc, 0)
		return
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		writeHTTPStatus(w, http.StatusBadRequest, codes.InvalidArgument, "reading body: "+err.Error(), 0)
		return
	}
	var msg proto.Message
	var items int
	var resp proto.Message
	switch sig {
	case Traces:
		req := &coltracepb.ExportTraceServiceRequest{}
		err = proto.Unmarshal(raw, req)
		msg, items, resp = req, countSpans(req), &coltracepb.ExportTraceServiceResponse{}
	case Logs:
		req := &collogspb.ExportLogsServiceRequest{}
		err = proto.Unmarshal(raw, req)
		msg, items, resp = req, countLogs(req), &collogspb.ExportLogsServiceResponse{}
	case Metrics:
		req := &colmetricspb.ExportMetricsServiceRequest{}
		err = proto.Unmarshal(raw, req)
		msg, items, resp = req, countDataPoints(req), &colmetricspb.ExportMetricsServiceResponse{}
	}
	if err != nil {
		writeHTTPStatus(w, http.StatusBadRequest, codes.InvalidArgument, "bad protobuf: "+err.Error(), 0)
		return
	}
	f, release := s.admit(Request{Signal: sig, Time: time.Now(), Header: r.Header.Clone(), Path: r.URL.Path, Gzip: gz, Items: items, Body: raw})
	if !s.hold(r.Context()) {
		return
	}
	if f != nil {
		if f.Hang {
			if !s.hang(r.Context(), release) {
				return
			}
			writeHTTPStatus(w, http.StatusServiceUnavailable, codes.Unavailable, "released", 0)
			return
		}
		code := f.HTTPStatus
		if code == 0 {
			code = httpStatusFor(f.Code)
		}
		writeHTTPStatus(w, code, f.Code, "injected fault", f.RetryAfter)
		return
	}
	switch m := msg.(type) {
	case *coltracepb.ExportTraceServiceRequest:
		s.acceptTraces(m)
	case *collogspb.ExportLogsServiceRequest:
		s.acceptLogs(m)
	case *colmetricspb.ExportMetricsServiceRequest:
		s.acceptMetrics(m)
	}
	out, _ := proto.Marshal(resp)
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

func httpStatusFor(c codes.Code) int {
	switch c {
	case codes.Unavailable:
		return http.StatusServiceUnavailable
	case codes.ResourceExhausted:
		return http.StatusTooManyRequests
	default:
		return http.StatusBadRequest
	}
}

// writeHTTPStatus answers with a google.rpc.Status body, as OTLP/HTTP
// requires for failures.
func writeHTTPStatus(w http.ResponseWriter, httpCode int, code codes.Code, msg string, retryAfter time.Duration) {
	if code == codes.OK {
		code = codes.Unknown
	}
	if retryAfter > 0 {
		secs := int64((retryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	out, _ := proto.Marshal(status.New(code, msg).Proto())
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(httpCode)
	_, _ = w.Write(out)
}

// --- gRPC ---

type traceService struct {
	coltracepb.UnimplementedTraceServiceServer
	s *Server
}

func (ts traceService) Export(ctx context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	if err := ts.s.grpcAdmit(ctx, Traces, "/opentelemetry.proto.collector.trace.v1.TraceService/Export", req, countSpans(req)); err != nil {
		return nil, err
	}
	ts.s.acceptTraces(req)
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

type logsService struct {
	collogspb.UnimplementedLogsServiceServer
	s *Server
}

func (ls logsService) Export(ctx context.Context, req *collogspb.ExportLogsServiceRequest) (*collogspb.ExportLogsServiceResponse, error) {
	if err := ls.s.grpcAdmit(ctx, Logs, "/opentelemetry.proto.collector.logs.v1.LogsService/Export", req, countLogs(req)); err != nil {
		return nil, err
	}
	ls.s.acceptLogs(req)
	return &collogspb.ExportLogsServiceResponse{}, nil
}

func (s *Server) grpcAdmit(ctx context.Context, sig Signal, method string, msg proto.Message, items int) error {
	body, _ := proto.Marshal(msg)
	req := Request{Signal: sig, Time: time.Now(), Header: http.Header{}, Path: method, Items: items, Body: body}
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		for k, vs := range md {
			for _, v := range vs {
				req.Header.Add(k, v)
			}
		}
	}
	if h, ok := ctx.Value(compressionKey{}).(*compressionHolder); ok {
		h.mu.Lock()
		req.Gzip = h.name == "gzip"
		h.mu.Unlock()
	}
	if dl, ok := ctx.Deadline(); ok {
		req.Deadline = time.Until(dl)
	}
	f, release := s.admit(req)
	if !s.hold(ctx) {
		return status.Error(codes.Unavailable, "server stopping or call canceled")
	}
	if f == nil {
		return nil
	}
	if f.Hang {
		if !s.hang(ctx, release) {
			if err := ctx.Err(); err != nil {
				// The call's deadline (grpc-timeout) passed or the client
				// went away: what a collector's handler answers then.
				return status.FromContextError(err).Err()
			}
			return status.Error(codes.Unavailable, "server stopping")
		}
		return status.Error(codes.Unavailable, "released")
	}
	code := f.Code
	if code == codes.OK {
		code = codes.Unavailable
	}
	st := status.New(code, "injected fault")
	if f.RetryAfter > 0 {
		if d, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(f.RetryAfter)}); err == nil {
			st = d
		}
	}
	return st.Err()
}

// compressionRecorder is a stats.Handler that notes the compression of each
// incoming call, which gRPC hides from the metadata.
type compressionRecorder struct{}

type compressionKey struct{}

type compressionHolder struct {
	mu   sync.Mutex
	name string
}

func (compressionRecorder) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context {
	return context.WithValue(ctx, compressionKey{}, &compressionHolder{})
}

func (compressionRecorder) HandleRPC(ctx context.Context, st stats.RPCStats) {
	if in, ok := st.(*stats.InHeader); ok {
		if h, ok := ctx.Value(compressionKey{}).(*compressionHolder); ok {
			h.mu.Lock()
			h.name = in.Compression
			h.mu.Unlock()
		}
	}
}

func (compressionRecorder) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}

func (compressionRecorder) HandleConn(context.Context, stats.ConnStats) {}

// String describes the server, for test failure messages.
func (s *Server) String() string { return fmt.Sprintf("otlptest.Server(%s)", s.endpoint) }
