package otlptest

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"syscall"
	"testing"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"go.uber.org/goleak"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func traceBody(t *testing.T, n int) []byte {
	t.Helper()
	ss := &tracepb.ScopeSpans{}
	for range n {
		ss.Spans = append(ss.Spans, &tracepb.Span{Name: "s", TraceId: make([]byte, 16), SpanId: make([]byte, 8)})
	}
	b, err := proto.Marshal(&coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{ScopeSpans: []*tracepb.ScopeSpans{ss}}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func post(t *testing.T, url, ctype, enc string, body []byte) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	if enc != "" {
		req.Header.Set("Content-Encoding", enc)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestHTTPProtocol(t *testing.T) {
	t.Parallel()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(traceBody(t, 2))
	_ = zw.Close()
	tests := []struct {
		name      string
		path      string
		ctype     string
		enc       string
		body      []byte
		want      int
		wantSpans int
	}{
		{"protobuf", "/v1/traces", "application/x-protobuf", "", traceBody(t, 3), 200, 3},
		{"gzip", "/v1/traces", "application/x-protobuf", "gzip", gz.Bytes(), 200, 2},
		{"json refused", "/v1/traces", "application/json", "", []byte(`{}`), 415, 0},
		{"bad protobuf", "/v1/traces", "application/x-protobuf", "", []byte{0xff, 0xff, 0xff}, 400, 0},
		{"bad gzip", "/v1/traces", "application/x-protobuf", "gzip", []byte("nope"), 400, 0},
		{"unknown path", "/v1/profiles", "application/x-protobuf", "", traceBody(t, 1), 404, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := NewHTTP(t)
			resp := post(t, srv.Endpoint()+tt.path, tt.ctype, tt.enc, tt.body)
			if resp.StatusCode != tt.want {
				t.Fatalf("status: got %d, want %d", resp.StatusCode, tt.want)
			}
			if got := len(srv.Spans()); got != tt.wantSpans {
				t.Errorf("spans: got %d, want %d", got, tt.wantSpans)
			}
			if tt.want == 200 {
				b, _ := io.ReadAll(resp.Body)
				if err := proto.Unmarshal(b, &coltracepb.ExportTraceServiceResponse{}); err != nil {
					t.Errorf("response: %v", err)
				}
				if r := srv.Requests(Traces); len(r) != 1 || r[0].Gzip != (tt.enc == "gzip") || r[0].Items != tt.wantSpans {
					t.Errorf("requests: got %+v", r)
				}
			}
		})
	}
	t.Run("GET refused", func(t *testing.T) {
		t.Parallel()
		srv := NewHTTP(t)
		resp, err := http.Get(srv.Endpoint() + "/v1/logs")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 405 {
			t.Errorf("status: got %d, want 405", resp.StatusCode)
		}
	})
}

func TestHTTPFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		f          Fault
		want       int
		retryAfter string
	}{
		{"503 with Retry-After", Fault{HTTPStatus: 503, RetryAfter: 1500 * time.Millisecond}, 503, "2"},
		{"unavailable code", Fault{Code: codes.Unavailable}, 503, ""},
		{"resource exhausted code", Fault{Code: codes.ResourceExhausted, RetryAfter: time.Second}, 429, "1"},
		{"400", Fault{HTTPStatus: 400}, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := NewHTTP(t)
			srv.FailNext(Traces, 1, tt.f)
			resp := post(t, srv.Endpoint()+"/v1/traces", "application/x-protobuf", "", traceBody(t, 1))
			if resp.StatusCode != tt.want || resp.Header.Get("Retry-After") != tt.retryAfter {
				t.Fatalf("got %d Retry-After %q, want %d %q", resp.StatusCode, resp.Header.Get("Retry-After"), tt.want, tt.retryAfter)
			}
			b, _ := io.ReadAll(resp.Body)
			if err := proto.Unmarshal(b, &spb.Status{}); err != nil {
				t.Errorf("body is not a google.rpc.Status: %v", err)
			}
			if len(srv.Spans()) != 0 {
				t.Error("spans: got some, want none accepted on a fault")
			}
			// The fault is used up: the next request is accepted.
			if resp := post(t, srv.Endpoint()+"/v1/traces", "application/x-protobuf", "", traceBody(t, 1)); resp.StatusCode != 200 {
				t.Errorf("second request: got %d, want 200", resp.StatusCode)
			}
		})
	}
}

func TestGRPCFaultsAndHang(t *testing.T) {
	t.Parallel()
	srv := NewGRPC(t)
	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	logs := collogspb.NewLogsServiceClient(conn)
	req := &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{ScopeLogs: []*logspb.ScopeLogs{{LogRecords: []*logspb.LogRecord{{}}}}}}}
	ctx := context.Background()

	srv.FailNext(Logs, 1, Fault{Code: codes.ResourceExhausted, RetryAfter: 250 * time.Millisecond})
	_, err = logs.Export(ctx, req)
	st := status.Convert(err)
	if st.Code() != codes.ResourceExhausted {
		t.Fatalf("code: got %v, want ResourceExhausted", st.Code())
	}
	var delay time.Duration
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			delay = ri.GetRetryDelay().AsDuration()
		}
	}
	if delay != 250*time.Millisecond {
		t.Errorf("RetryInfo delay: got %v, want 250ms", delay)
	}

	if _, err := logs.Export(ctx, req); err != nil {
		t.Fatalf("second export: got %v, want success", err)
	}
	if got := len(srv.Logs()); got != 1 {
		t.Errorf("logs: got %d, want 1", got)
	}

	srv.FailAll(Logs, Fault{Hang: true})
	done := make(chan error, 1)
	go func() {
		_, err := logs.Export(ctx, req)
		done <- err
	}()
	srv.WaitRequests(t, Logs, 3)
	select {
	case err := <-done:
		t.Fatalf("hanging export returned early: %v", err)
	default:
	}
	srv.ClearFaults()
	if err := <-done; status.Code(err) != codes.Unavailable {
		t.Errorf("released export: got %v, want Unavailable", err)
	}
}

// TestSetRefused: while refused, a new connection and an open one (a
// gRPC client keeps its connection) both fail as a down collector's would;
// resumed, the same endpoint accepts exports again.
func TestSetRefused(t *testing.T) {
	t.Parallel()
	t.Run("http", func(t *testing.T) {
		t.Parallel()
		srv := NewHTTP(t)
		client := &http.Client{Transport: &http.Transport{}}
		defer client.CloseIdleConnections()
		export := func() (*http.Response, error) {
			req, _ := http.NewRequest(http.MethodPost, srv.Endpoint()+"/v1/traces", bytes.NewReader(traceBody(t, 1)))
			req.Header.Set("Content-Type", "application/x-protobuf")
			resp, err := client.Do(req)
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			return resp, err
		}
		if _, err := export(); err != nil {
			t.Fatal(err)
		}
		if err := srv.SetRefused(true); err != nil {
			t.Fatal(err)
		}
		// The client's idle connection was closed by the server; the
		// client notices, then dials.
		client.CloseIdleConnections()
		if _, err := export(); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("got %v while refused, want connection refused", err)
		}
		if err := srv.SetRefused(false); err != nil {
			t.Fatal(err)
		}
		if resp, err := export(); err != nil || resp.StatusCode != 200 {
			t.Fatalf("after resuming: got %v, %v; want 200", resp, err)
		}
		if got := len(srv.Spans()); got != 2 {
			t.Errorf("spans: got %d, want 2 (before and after the refusal)", got)
		}
	})
	t.Run("grpc", func(t *testing.T) {
		t.Parallel()
		srv := NewGRPC(t)
		conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		logs := collogspb.NewLogsServiceClient(conn)
		req := &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{ScopeLogs: []*logspb.ScopeLogs{{LogRecords: []*logspb.LogRecord{{}}}}}}}
		ctx := context.Background()
		if _, err := logs.Export(ctx, req); err != nil {
			t.Fatal(err)
		}
		if err := srv.SetRefused(true); err != nil {
			t.Fatal(err)
		}
		if _, err := logs.Export(ctx, req); status.Code(err) != codes.Unavailable {
			t.Fatalf("got %v while refused, want Unavailable", err)
		}
		if err := srv.SetRefused(false); err != nil {
			t.Fatal(err)
		}
		// gRPC reconnects with backoff; wait for the call like an exporter
		// retrying Unavailable would.
		if _, err := logs.Export(ctx, req, grpc.WaitForReady(true)); err != nil {
			t.Fatalf("after resuming: got %v, want success", err)
		}
		if got := len(srv.Logs()); got != 2 {
			t.Errorf("logs: got %d, want 2 (before and after the refusal)", got)
		}
	})
}
