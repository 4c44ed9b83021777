package otlp

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc/codes"

	"github.com/glassbox-obs/glassbox/internal/otlptest"
	"github.com/glassbox-obs/glassbox/internal/testutil"
	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/trace"
)

func TestSpansAndLogsArrive(t *testing.T) {
	t.Parallel()
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, p)
			pl := newPipeline(t, p, srv.Endpoint())

			ctx := trace.WithCorrelationID(context.Background(), "req-42")
			ctx, parent := pl.tp.Tracer("test").Start(ctx, "GET /checkout")
			cctx, child := pl.tp.Tracer("test").Start(ctx, "charge card")
			pl.logger.ErrorContext(cctx, "card declined", "amount", 12.5, "attempt", 2, "ok", false,
				slog.Group("card", "brand", "visa", "token", "secret-value"), "err", errors.New("insufficient funds"))
			child.End()
			parent.End()
			pl.flush(t)

			spans := srv.WaitSpans(t, 2)
			byName := map[string]otlptest.Span{}
			for _, s := range spans {
				byName[s.Span.GetName()] = s
			}
			ps, cs := byName["GET /checkout"], byName["charge card"]
			if ps.Span == nil || cs.Span == nil {
				t.Fatalf("got spans %v, want GET /checkout and charge card", byName)
			}
			tid := parent.SpanContext().TraceID()
			if got := cs.Span.GetTraceId(); !bytes.Equal(got, tid[:]) {
				t.Errorf("child trace ID: got %x, want %x", got, tid)
			}
			psid := parent.SpanContext().SpanID()
			if got := cs.Span.GetParentSpanId(); !bytes.Equal(got, psid[:]) {
				t.Errorf("child parent ID: got %x, want %x", got, psid)
			}
			if got := strAttr(cs.Resource.GetAttributes(), "service.name"); got != "checkout" {
				t.Errorf("span resource service.name: got %q, want checkout", got)
			}

			recs := srv.WaitLogs(t, 1)
			r := recs[0]
			if got := r.Record.GetBody().GetStringValue(); got != "card declined" {
				t.Errorf("body: got %q, want %q", got, "card declined")
			}
			if got := r.Record.GetSeverityNumber(); got != 17 {
				t.Errorf("severity: got %v, want 17 (ERROR)", got)
			}
			if got := r.Record.GetSeverityText(); got != "ERROR" {
				t.Errorf("severity text: got %q, want ERROR", got)
			}
			if got := r.Record.GetTraceId(); !bytes.Equal(got, tid[:]) {
				t.Errorf("log trace ID: got %x, want %x", got, tid)
			}
			csid := child.SpanContext().SpanID()
			if got := r.Record.GetSpanId(); !bytes.Equal(got, csid[:]) {
				t.Errorf("log span ID: got %x, want %x", got, csid)
			}
			if r.Record.GetTimeUnixNano() == 0 {
				t.Error("log time: got 0, want the record's time")
			}
			if got := strAttr(r.Resource.GetAttributes(), "service.name"); got != "checkout" {
				t.Errorf("log resource service.name: got %q, want checkout", got)
			}
			a := attrs(r.Record.GetAttributes())
			if got := a["correlation.id"].GetStringValue(); got != "req-42" {
				t.Errorf("correlation.id: got %q, want req-42", got)
			}
			if got := a["amount"].GetDoubleValue(); got != 12.5 {
				t.Errorf("amount: got %v, want 12.5", got)
			}
			if got := a["attempt"].GetIntValue(); got != 2 {
				t.Errorf("attempt: got %v, want 2", got)
			}
			if v, ok := a["ok"]; !ok || v.GetBoolValue() {
				t.Errorf("ok: got %v, want false", v)
			}
			if got := a["exception.message"].GetStringValue(); got != "insufficient funds" {
				t.Errorf("exception.message: got %q, want insufficient funds", got)
			}
			card := attrs(a["card"].GetKvlistValue().GetValues())
			if got := card["brand"].GetStringValue(); got != "visa" {
				t.Errorf("card.brand: got %q, want visa", got)
			}
			if got := card["token"].GetStringValue(); got != log.Redacted {
				t.Errorf("card.token: got %q, want %q (redacted before export)", got, log.Redacted)
			}
			for _, k := range []string{"message", "log.level", "@timestamp", "service.name", "trace.id", "span.id"} {
				if _, ok := a[k]; ok {
					t.Errorf("attribute %q present, want it only in the record's own fields or resource", k)
				}
			}
			for name, st := range map[string]Stats{"spans": pl.proc.Stats(), "logs": pl.sink.Stats()} {
				if st.Exported != st.Produced || st.InFlight != 0 || st.Dropped.Total() != 0 {
					t.Errorf("%s stats after flush: got %+v, want all accepted exported", name, st)
				}
			}
		})
	}
}

// TestRetries checks the OTLP retry rules through the real exporters:
// retryable answers are retried (after the server's RetryInfo or
// Retry-After), the others are not.
func TestRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		p         Protocol
		fault     otlptest.Fault
		times     int
		wantTries int
		delivered bool
	}{
		{"grpc unavailable", ProtocolGRPC, otlptest.Fault{Code: codes.Unavailable}, 2, 3, true},
		{"grpc resource exhausted with RetryInfo", ProtocolGRPC, otlptest.Fault{Code: codes.ResourceExhausted, RetryAfter: 400 * time.Millisecond}, 1, 2, true},
		{"grpc resource exhausted without RetryInfo", ProtocolGRPC, otlptest.Fault{Code: codes.ResourceExhausted}, 1, 1, false},
		{"grpc permission denied", ProtocolGRPC, otlptest.Fault{Code: codes.PermissionDenied}, 1, 1, false},
		{"grpc invalid argument", ProtocolGRPC, otlptest.Fault{Code: codes.InvalidArgument}, 1, 1, false},
		{"http 503 with Retry-After", ProtocolHTTPProtobuf, otlptest.Fault{HTTPStatus: 503, RetryAfter: time.Second}, 1, 2, true},
		{"http 429", ProtocolHTTPProtobuf, otlptest.Fault{HTTPStatus: 429}, 2, 3, true},
		{"http 502", ProtocolHTTPProtobuf, otlptest.Fault{HTTPStatus: 502}, 1, 2, true},
		{"http 400", ProtocolHTTPProtobuf, otlptest.Fault{HTTPStatus: 400}, 1, 1, false},
		{"http 401", ProtocolHTTPProtobuf, otlptest.Fault{HTTPStatus: 401}, 1, 1, false},
	}
	for _, tt := range tests {
		for _, sig := range []otlptest.Signal{otlptest.Traces, otlptest.Logs} {
			t.Run(fmt.Sprintf("%s/%s", tt.name, sig), func(t *testing.T) {
				t.Parallel()
				srv := newServer(t, tt.p)
				srv.FailNext(sig, tt.times, tt.fault)
				pl := newPipeline(t, tt.p, srv.Endpoint())
				var st func() Stats
				if sig == otlptest.Traces {
					_, sp := pl.tp.Tracer("test").Start(context.Background(), "op")
					sp.End()
					st = pl.proc.Stats
				} else {
					pl.logger.Info("hello")
					st = pl.sink.Stats
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				var err error
				if sig == otlptest.Traces {
					err = pl.tp.ForceFlush(ctx)
				} else {
					err = pl.sink.Flush(ctx)
				}
				reqs := srv.Requests(sig)
				if len(reqs) != tt.wantTries {
					t.Fatalf("requests: got %d, want %d", len(reqs), tt.wantTries)
				}
				if tt.delivered {
					if err != nil {
						t.Errorf("flush: got %v, want nil", err)
					}
					if s := st(); s.Exported != 1 || s.Dropped.ExportFailed != 0 {
						t.Errorf("stats: got %+v, want 1 exported", s)
					}
				} else {
					if err == nil {
						t.Error("flush: got nil, want an error for the lost export")
					}
					if s := st(); s.Exported != 0 || s.Dropped.ExportFailed != 1 || s.InFlight != 0 {
						t.Errorf("stats: got %+v, want 1 failed", s)
					}
					if pl.errs.Load() == 0 {
						t.Error("error handler: got no call, want the failure reported")
					}
				}
				if tt.fault.RetryAfter > 0 && len(reqs) > 1 {
					// The retry waits at least as long as the server asked.
					if gap := reqs[1].Time.Sub(reqs[0].Time); gap < tt.fault.RetryAfter {
						t.Errorf("retry came %v after the first attempt, want at least %v", gap, tt.fault.RetryAfter)
					}
				}
			})
		}
	}
}

// TestCollectorDownOrSlowNeverBlocks ends spans and logs while the
// collector hangs or is gone: every call returns, the overflow is dropped
// and counted, and Shutdown keeps its deadline.
func TestCollectorDownOrSlowNeverBlocks(t *testing.T) {
	t.Parallel()
	const queue, n = 5, 40
	for _, p := range protocols {
		for _, mode := range []string{"hang", "down"} {
			t.Run(string(p)+"/"+mode, func(t *testing.T) {
				t.Parallel()
				srv := newServer(t, p)
				if mode == "hang" {
					srv.FailAll(otlptest.Traces, otlptest.Fault{Hang: true})
					srv.FailAll(otlptest.Logs, otlptest.Fault{Hang: true})
				} else {
					srv.Close()
				}
				pl := newPipeline(t, p, srv.Endpoint(), WithMaxQueueSize(queue), WithTimeout(time.Minute),
					WithRetry(RetryConfig{Enabled: true, InitialInterval: time.Second, MaxInterval: time.Second, MaxElapsedTime: 2 * time.Second}))

				done := make(chan struct{})
				go func() {
					defer close(done)
					for i := range n {
						_, sp := pl.tp.Tracer("test").Start(context.Background(), "op")
						sp.End()
						pl.logger.Info("hello", "i", i)
					}
				}()
				select {
				case <-done:
				case <-time.After(otlptest.WaitTimeout):
					t.Fatal("logging and ending spans blocked on the collector")
				}

				for name, st := range map[string]Stats{"spans": pl.proc.Stats(), "logs": pl.sink.Stats()} {
					if st.Produced != n || st.Exported != 0 || st.Dropped.Total()+st.InFlight != n {
						t.Errorf("%s: got %+v, want %d produced, nothing exported, the rest dropped or in flight", name, st, n)
					}
					if mode == "down" {
						// Failures free queue slots as they come, so how
						// many are accepted depends on timing.
						continue
					}
					// Nothing completes while the collector hangs: the
					// queue bound is exact.
					if st.InFlight != queue || st.Dropped.QueueFull != n-queue {
						t.Errorf("%s: in flight %d, dropped (queue full) %d; want %d, %d", name, st.InFlight, st.Dropped.QueueFull, queue, n-queue)
					}
				}

				shutdown := make(chan error, 2)
				ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
				defer cancel()
				go func() { shutdown <- pl.tp.Shutdown(ctx) }()
				go func() { shutdown <- pl.sink.Shutdown(ctx) }()
				for range 2 {
					select {
					case err := <-shutdown:
						// A hanging collector holds items past the deadline;
						// a dead one may have failed them before Shutdown.
						if err == nil && mode == "hang" {
							t.Error("Shutdown: got nil, want the deadline error for what is still in flight")
						}
					case <-time.After(otlptest.WaitTimeout):
						t.Fatal("Shutdown did not return by its deadline")
					}
				}
				// Shutdown has returned: nothing is in flight any more, what
				// the hanging collector held is counted as dropped at
				// shutdown, and the abandoned exports change nothing later.
				atShutdown := map[string]Stats{"spans": pl.proc.Stats(), "logs": pl.sink.Stats()}
				for name, st := range atShutdown {
					if st.InFlight != 0 || st.Exported != 0 || st.Dropped.Total() != n {
						t.Errorf("%s after Shutdown: got %+v, want nothing in flight and all %d dropped by reason", name, st, n)
					}
					if mode == "hang" && st.Dropped.Shutdown != queue {
						t.Errorf("%s after Shutdown: dropped at shutdown %d, want the %d the collector held", name, st.Dropped.Shutdown, queue)
					}
				}
				waitExporterShutDown(t, pl.proc.abort, pl.sink.abort)
				for name, st := range map[string]Stats{"spans": pl.proc.Stats(), "logs": pl.sink.Stats()} {
					if st != atShutdown[name] {
						t.Errorf("%s: counters changed after Shutdown returned: %+v, then %+v", name, atShutdown[name], st)
					}
				}
			})
		}
	}
}

// TestEachSinkFailsAlone puts a dead OTLP backend next to working ones:
// the working span processor and log sink get everything.
func TestEachSinkFailsAlone(t *testing.T) {
	t.Parallel()
	srv := otlptest.NewGRPC(t)
	srv.FailAll(otlptest.Traces, otlptest.Fault{Hang: true})
	srv.FailAll(otlptest.Logs, otlptest.Fault{Hang: true})
	ctx := context.Background()
	opts := []Option{WithProtocol(ProtocolGRPC), WithEndpointURL(srv.Endpoint()), WithMaxQueueSize(2), WithRetry(fastRetry)}
	sexp, err := NewSpanExporter(ctx, opts...)
	if err != nil {
		t.Fatal(err)
	}
	lexp, err := NewLogExporter(ctx, opts...)
	if err != nil {
		t.Fatal(err)
	}
	proc, sink := NewSpanProcessor(sexp, opts...), NewSink(lexp, opts...)
	mem := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(proc), sdktrace.WithSyncer(mem))
	var buf safeBuffer
	h := log.NewHandler(log.WithSink(sink), log.WithWriter(&buf))
	logger := slog.New(h)

	const n = 50
	for i := range n {
		_, sp := tp.Tracer("t").Start(ctx, "op")
		sp.End()
		if err := h.Handle(ctx, slog.NewRecord(time.Now(), slog.LevelInfo, "hello", 0)); err != nil {
			t.Fatalf("Handle %d: got %v, want nil while the other sink works", i, err)
		}
	}
	logger.Info("last")
	if got := len(mem.GetSpans()); got != n {
		t.Errorf("in-memory spans: got %d, want %d", got, n)
	}
	if got := strings.Count(buf.String(), "\n"); got != n+1 {
		t.Errorf("console lines: got %d, want %d", got, n+1)
	}
	if st := proc.Stats(); st.Dropped.QueueFull == 0 {
		t.Errorf("otlp span stats: got %+v, want drops counted", st)
	}
	sctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_ = tp.Shutdown(sctx)
	_ = h.Shutdown(sctx)
	waitExporterShutDown(t, proc.abort, sink.abort)
}

// safeBuffer is a bytes.Buffer safe for concurrent writers.
type safeBuffer = testutil.Buffer

func TestWriteAfterShutdown(t *testing.T) {
	t.Parallel()
	srv := otlptest.NewHTTP(t)
	pl := newPipeline(t, ProtocolHTTPProtobuf, srv.Endpoint())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := pl.tp.Shutdown(ctx); err != nil {
		t.Fatalf("tp.Shutdown: %v", err)
	}
	if err := pl.sink.Shutdown(ctx); err != nil {
		t.Fatalf("sink.Shutdown: %v", err)
	}
	pl.logger.Info("late")
	_, sp := pl.tp.Tracer("t").Start(ctx, "late")
	sp.End()
	if got := pl.sink.Stats().Dropped.Shutdown; got != 1 {
		t.Errorf("log Dropped.Shutdown: got %d, want 1", got)
	}
	if got := len(srv.Logs()); got != 0 {
		t.Errorf("logs received: got %d, want 0", got)
	}
}

func TestExporterOptions(t *testing.T) {
	t.Parallel()
	cert := otlptest.NewCertificate(t, "collector")
	tlsCfg := func() *tls.Config { return &tls.Config{RootCAs: cert.Pool, MinVersion: tls.VersionTLS12} }
	tests := []struct {
		name  string
		p     Protocol
		sopts []otlptest.Option
		opts  []Option
		check func(t *testing.T, r otlptest.Request)
	}{
		{"grpc gzip", ProtocolGRPC, nil, []Option{WithCompression("gzip")}, func(t *testing.T, r otlptest.Request) {
			if !r.Gzip {
				t.Error("gzip: got uncompressed request, want gzip")
			}
		}},
		{"http gzip", ProtocolHTTPProtobuf, nil, []Option{WithCompression("gzip")}, func(t *testing.T, r otlptest.Request) {
			if !r.Gzip {
				t.Error("gzip: got uncompressed request, want gzip")
			}
		}},
		{"http none", ProtocolHTTPProtobuf, nil, []Option{WithCompression("none")}, func(t *testing.T, r otlptest.Request) {
			if r.Gzip {
				t.Error("compression none: got gzip, want plain")
			}
		}},
		{"grpc headers", ProtocolGRPC, nil, []Option{WithHeaders(map[string]string{"api-key": "k1"})}, func(t *testing.T, r otlptest.Request) {
			if got := r.Header.Get("api-key"); got != "k1" {
				t.Errorf("api-key: got %q, want k1", got)
			}
		}},
		{"http headers", ProtocolHTTPProtobuf, nil, []Option{WithHeaders(map[string]string{"Api-Key": "k1"})}, func(t *testing.T, r otlptest.Request) {
			if got := r.Header.Get("Api-Key"); got != "k1" {
				t.Errorf("Api-Key: got %q, want k1", got)
			}
		}},
		{"grpc timeout", ProtocolGRPC, nil, []Option{WithTimeout(1500 * time.Millisecond)}, func(t *testing.T, r otlptest.Request) {
			if r.Deadline <= 0 || r.Deadline > 1500*time.Millisecond {
				t.Errorf("deadline: got %v, want within 1.5s", r.Deadline)
			}
		}},
		{"grpc tls", ProtocolGRPC, []otlptest.Option{otlptest.WithTLS(cert.TLS)}, []Option{WithTLSClientConfig(tlsCfg())}, nil},
		{"http tls", ProtocolHTTPProtobuf, []otlptest.Option{otlptest.WithTLS(cert.TLS)}, []Option{WithTLSClientConfig(tlsCfg())}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, tt.p, tt.sopts...)
			pl := newPipeline(t, tt.p, srv.Endpoint(), tt.opts...)
			pl.logger.Info("hi")
			_, sp := pl.tp.Tracer("t").Start(context.Background(), "op")
			sp.End()
			pl.flush(t)
			srv.WaitSpans(t, 1)
			srv.WaitLogs(t, 1)
			if tt.check != nil {
				tt.check(t, srv.Requests(otlptest.Traces)[0])
				tt.check(t, srv.Requests(otlptest.Logs)[0])
			}
		})
	}
}

func TestBadOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opt  Option
	}{
		{"protocol", WithProtocol("http/json")},
		{"compression", WithCompression("zstd")},
		{"endpoint", WithEndpointURL("localhost:4318")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := []Option{WithProtocol(ProtocolHTTPProtobuf), tt.opt}
			if _, err := NewSpanExporter(context.Background(), opts...); err == nil {
				t.Error("NewSpanExporter: got nil error, want one")
			}
			if _, err := NewLogExporter(context.Background(), opts...); err == nil {
				t.Error("NewLogExporter: got nil error, want one")
			}
		})
	}
}

func TestParseProtocol(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Protocol
		wantErr bool
	}{
		{"", ProtocolHTTPProtobuf, false},
		{"grpc", ProtocolGRPC, false},
		{" GRPC ", ProtocolGRPC, false},
		{"http/protobuf", ProtocolHTTPProtobuf, false},
		{"http/json", "", true},
		{"udp", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseProtocol(tt.in)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("ParseProtocol(%q): got %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// TestCompressionNoneWinsOverEnvironment: WithCompression("none") beats
// OTEL_EXPORTER_OTLP_COMPRESSION=gzip over both protocols, and says
// nothing to the OTel error handler (the SDK's trace gRPC exporter knows
// no name for "none" and reports any other as invalid).
func TestCompressionNoneWinsOverEnvironment(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
	var (
		mu       sync.Mutex
		reported []error
	)
	prev := otel.GetErrorHandler()
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		mu.Lock()
		defer mu.Unlock()
		reported = append(reported, err)
	}))
	defer otel.SetErrorHandler(prev)
	for _, p := range protocols {
		for _, compression := range []string{"none", ""} {
			srv := newServer(t, p)
			var opts []Option
			if compression != "" {
				opts = append(opts, WithCompression(compression))
			}
			pl := newPipeline(t, p, srv.Endpoint(), opts...)
			pl.logger.Info("hi")
			_, sp := pl.tp.Tracer("t").Start(context.Background(), "op")
			sp.End()
			pl.flush(t)
			for _, sig := range []otlptest.Signal{otlptest.Traces, otlptest.Logs} {
				r := srv.WaitRequests(t, sig, 1)[0]
				if want := compression == ""; r.Gzip != want {
					t.Errorf("%s %s with compression %q: gzip %v, want %v", p, sig, compression, r.Gzip, want)
				}
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reported) > 0 {
		t.Errorf("OTel error handler: got %v, want nothing reported", reported)
	}
}
