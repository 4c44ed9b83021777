package sentry_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/glassbox-obs/glassbox/errors"
	gbsentry "github.com/glassbox-obs/glassbox/exporter/sentry"
	"github.com/glassbox-obs/glassbox/internal/sentrytest"
	"github.com/glassbox-obs/glassbox/internal/testutil"
	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/middleware/grpcmw"
)

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer = testutil.Buffer

// recordsOf returns the log documents in buf with the given message.
func recordsOf(t *testing.T, buf *syncBuffer, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, m := range testutil.JSONLines(t, buf.String()) {
		if m["message"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// stack is one service: logs to a buffer and to the Reporter, spans to a
// real TracerProvider.
type stack struct {
	srv    *sentrytest.Server
	rep    *gbsentry.Reporter
	logs   *syncBuffer
	logger *slog.Logger
	mwOpts []middleware.Option
}

func newStack(t *testing.T, opts ...gbsentry.Option) *stack {
	t.Helper()
	s := &stack{srv: sentrytest.NewServer(t), logs: &syncBuffer{}}
	s.rep = newReporter(t, s.srv, opts...)
	s.logger = slog.New(log.NewHandler(log.WithWriter(s.logs), log.WithSink(s.rep), log.WithService(log.Service{Name: "checkout"})))
	tp := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	s.mwOpts = []middleware.Option{middleware.WithObservers(s.rep), middleware.WithLogger(s.logger), middleware.WithTracerProvider(tp)}
	return s
}

func TestHTTPMiddlewareEndToEnd(t *testing.T) {
	s := newStack(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /panic/{id}", func(w http.ResponseWriter, r *http.Request) {
		s.logger.InfoContext(r.Context(), "about to panic")
		var m map[string]int
		m[r.PathValue("id")]++
	})
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, r *http.Request) {
		s.logger.InfoContext(r.Context(), "calling the bank")
		w.WriteHeader(http.StatusBadGateway)
	})
	mux.HandleFunc("GET /logfail/{id}", func(w http.ResponseWriter, r *http.Request) {
		s.logger.InfoContext(r.Context(), "loading order", "order", r.PathValue("id"))
		err := errors.With(errors.Errorf("order %s: db timeout", r.PathValue("id")), "table", "orders")
		s.logger.ErrorContext(r.Context(), "cannot load order", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	})
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, r *http.Request) {
		s.logger.InfoContext(r.Context(), "fine")
	})
	ts := httptest.NewServer(middleware.HTTP(s.mwOpts...)(mux))
	defer ts.Close()

	tests := []struct {
		path       string
		corr       string
		status     int
		wantEvent  bool
		wantCrumbs []string
		wantType   string
	}{
		{"/ok", "corr-ok", 200, false, nil, ""},
		{"/panic/7", "corr-panic", 500, true, []string{"about to panic"}, "runtime.plainError"},
		{"/fail", "corr-fail", 502, true, []string{"calling the bank"}, "HTTPStatus"},
		{"/logfail/42", "corr-logfail", 500, true, []string{"loading order", "cannot load order"}, "*errors.Error"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, ts.URL+tt.path+"?api_key=SECRETQ", nil)
			req.Header.Set("X-Correlation-ID", tt.corr)
			req.Header.Set("Authorization", "Bearer SECRETAUTH")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("got status %d, want %d", resp.StatusCode, tt.status)
			}
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10e9)
	defer cancel()
	if err := s.rep.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	byCorr := map[string][]map[string]any{}
	for _, ev := range s.srv.Events() {
		c := str(ev, "tags", "correlation_id")
		byCorr[c] = append(byCorr[c], ev)
	}
	access := map[string]string{}
	for _, rec := range recordsOf(t, s.logs, "request completed") {
		id, _ := rec["error.id"].(string)
		access[str(rec, "correlation.id")] = id
	}
	for _, tt := range tests {
		evs := byCorr[tt.corr]
		if !tt.wantEvent {
			if len(evs) != 0 {
				t.Errorf("%s: got %d events, want none", tt.path, len(evs))
			}
			continue
		}
		if len(evs) != 1 {
			t.Errorf("%s: got %d events, want exactly 1", tt.path, len(evs))
			continue
		}
		ev := evs[0]
		if got := breadcrumbMessages(ev); strings.Join(got, "|") != strings.Join(tt.wantCrumbs, "|") {
			t.Errorf("%s: got breadcrumbs %q, want %q (this request's records only)", tt.path, got, tt.wantCrumbs)
		}
		exc := exceptions(t, ev)
		if got := exc[len(exc)-1]["type"]; got != tt.wantType {
			t.Errorf("%s: got exception type %v, want %s", tt.path, got, tt.wantType)
		}
		if str(ev, "contexts", "trace", "trace_id") == "" || str(ev, "tags", "trace_id") != str(ev, "contexts", "trace", "trace_id") {
			t.Errorf("%s: got trace context %v, tags %v", tt.path, ev["contexts"].(map[string]any)["trace"], ev["tags"])
		}
		if access[tt.corr] != ev["event_id"] {
			t.Errorf("%s: access log error.id = %q, want the event ID %v", tt.path, access[tt.corr], ev["event_id"])
		}
	}
	if ev := byCorr["corr-logfail"]; len(ev) == 1 && str(ev[0], "transaction") != "GET /logfail/{id}" {
		t.Errorf("got transaction %q, want the route", str(ev[0], "transaction"))
	}
	for _, env := range s.srv.Envelopes() {
		for _, secret := range []string{"SECRETQ", "SECRETAUTH"} {
			if bytes.Contains(env.Raw, []byte(secret)) {
				t.Errorf("envelope contains %s", secret)
			}
		}
	}
}

// echo is a hand-written gRPC service over wrapperspb.StringValue.
type echo interface {
	Unary(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error)
}

type echoFunc func(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error)

func (f echoFunc) Unary(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
	return f(ctx, in)
}

var echoDesc = grpc.ServiceDesc{
	ServiceName: "test.Echo",
	HandlerType: (*echo)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Unary",
		Handler: func(srv any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.StringValue)
			if err := dec(in); err != nil {
				return nil, err
			}
			h := func(ctx context.Context, req any) (any, error) {
				return srv.(echo).Unary(ctx, req.(*wrapperspb.StringValue))
			}
			if ic == nil {
				return h(ctx, in)
			}
			return ic(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: "/test.Echo/Unary"}, h)
		},
	}},
}

func TestGRPCInterceptorsEndToEnd(t *testing.T) {
	s := newStack(t)
	impl := echoFunc(func(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		s.logger.InfoContext(ctx, "handling "+in.Value)
		switch in.Value {
		case "internal":
			return nil, status.Error(codes.Internal, "ledger unavailable")
		case "notfound":
			return nil, status.Error(codes.NotFound, "no such order")
		case "panic":
			panic("grpc handler exploded")
		}
		return in, nil
	})
	conn := echoServer(t, impl, s.mwOpts)

	tests := []struct {
		value     string
		code      codes.Code
		wantEvent bool
		wantType  string
	}{
		{"fine", codes.OK, false, ""},
		{"notfound", codes.NotFound, false, ""},
		{"internal", codes.Internal, true, "*status.Error"},
		{"panic", codes.Internal, true, "panic"},
	}
	for _, tt := range tests {
		out := new(wrapperspb.StringValue)
		err := conn.Invoke(context.Background(), "/test.Echo/Unary", wrapperspb.String(tt.value), out)
		if got := status.Code(err); got != tt.code {
			t.Fatalf("%s: got code %v, want %v", tt.value, got, tt.code)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10e9)
	defer cancel()
	if err := s.rep.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	evs := s.srv.Events()
	if len(evs) != 2 {
		t.Fatalf("got %d events, want 2 (Internal, panic)", len(evs))
	}
	for _, tt := range tests {
		if !tt.wantEvent {
			continue
		}
		var found map[string]any
		for _, ev := range evs {
			if contains(breadcrumbMessages(ev), "handling "+tt.value) {
				if found != nil {
					t.Errorf("%s: more than one event", tt.value)
				}
				found = ev
			}
		}
		if found == nil {
			t.Errorf("%s: no event with its breadcrumb", tt.value)
			continue
		}
		if got := breadcrumbMessages(found); len(got) != 1 {
			t.Errorf("%s: got breadcrumbs %q, want only this call's", tt.value, got)
		}
		exc := exceptions(t, found)
		if got := exc[len(exc)-1]["type"]; got != tt.wantType {
			t.Errorf("%s: got exception type %v, want %s", tt.value, got, tt.wantType)
		}
		if str(found, "tags", "rpc.grpc.status_code") != "Internal" || str(found, "transaction") != "/test.Echo/Unary" {
			t.Errorf("%s: got tags %v transaction %v", tt.value, found["tags"], found["transaction"])
		}
		if str(found, "tags", "correlation_id") == "" {
			t.Errorf("%s: got no correlation_id tag", tt.value)
		}
	}
}

// TestReportDuringRoutedRequest: an error reported by hand inside a
// handler that ServeMux routed carries the route the mux matched, as the
// route tag and in the transaction, and the request's data.
func TestReportDuringRoutedRequest(t *testing.T) {
	s := newStack(t)
	mux := http.NewServeMux()
	ids := make(chan string, 1)
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		ids <- gbsentry.Report(r.Context(), errors.New("order "+r.PathValue("id")+" is locked"))
		w.WriteHeader(http.StatusConflict)
	})
	ts := httptest.NewServer(middleware.HTTP(s.mwOpts...)(mux))
	defer ts.Close()
	resp, err := http.Get(ts.URL + "/orders/7")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	ev := events(t, s.rep, s.srv, 1)[0]
	if id := <-ids; ev["event_id"] != id {
		t.Errorf("got event %v, want the reported %s", ev["event_id"], id)
	}
	if got := str(ev, "tags", "route"); got != "/orders/{id}" {
		t.Errorf("got route tag %q, want /orders/{id}", got)
	}
	if got := str(ev, "transaction"); got != "GET /orders/{id}" {
		t.Errorf("got transaction %q, want GET /orders/{id}", got)
	}
	if got := str(ev, "request", "url"); got != ts.URL+"/orders/7" {
		t.Errorf("got request.url %q", got)
	}
}

// echoServer serves impl as the test Echo service on loopback behind the
// glassbox interceptors built from opts, and returns a connection to it;
// both are closed when the test ends.
func echoServer(t *testing.T, impl any, opts []middleware.Option) *grpc.ClientConn {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpcmw.ServerOptions(opts...)...)
	gs.RegisterService(&echoDesc, impl)
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}
