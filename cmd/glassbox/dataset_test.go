package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	otelcodes "go.opentelemetry.io/otel/codes"
	oteltrace "go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/glassbox-obs/glassbox"
	gberrors "github.com/glassbox-obs/glassbox/errors"
	"github.com/glassbox-obs/glassbox/exporter/sentry"
	"github.com/glassbox-obs/glassbox/internal/sentrytest"
	"github.com/glassbox-obs/glassbox/internal/story"
	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/middleware/grpcmw"
)

// update rewrites the golden files; record re-records the dataset they
// are rendered from (new IDs and timings: review the goldens after).
var (
	update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")
	record = flag.Bool("record", false, "re-record the dataset in testdata/checkout (then run with -update)")
)

// datasetDir holds the recorded multi-service dataset the golden tests
// render: NDJSON files exactly as exporter/file wrote them.
const datasetDir = "testdata/checkout"

// The correlation IDs of the recorded requests.
const (
	failedID = "order-7731" // frontend -> payments -> ledger, ledger fails
	okID     = "order-7730" // the same path, all fine: must not show up in order-7731's story
)

// TestPipelineToStory records two requests with the real pipeline: three
// services (glassbox.Start each, with the GLASSBOX_FILE_DIR exporter and a
// Sentry reporter), real servers on loopback, frontend over HTTP ->
// payments over gRPC -> ledger over HTTP; then tells the failed one's
// story from the files. With -record it also keeps the files as the
// dataset of the golden tests.
func TestPipelineToStory(t *testing.T) {
	dir := t.TempDir()
	recordCheckout(t, dir, okID, failedID)
	code, out, errs := runCLI(t, nil, "", "trace", "--json", "--dir", dir, failedID)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var j story.JSON
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sv := range j.Services {
		names = append(names, sv.Name)
		if sv.Logs == 0 || sv.Spans == 0 || sv.FailedSpans == 0 {
			t.Errorf("service %s: %+v; want its spans, its log lines and its failure", sv.Name, sv)
		}
	}
	if strings.Join(names, ",") != "frontend,payments,ledger" || len(j.TraceIDs) != 2 || len(j.CorrelationIDs) != 1 {
		t.Errorf("services %v, traces %v, correlation IDs %v; want the three services, two traces, one ID", names, j.TraceIDs, j.CorrelationIDs)
	}
	want := map[string]bool{"ledger POST /entries 500": false, "payments payments.Payments/Charge Internal": false, "frontend POST /checkout 502": false}
	var walk func(n story.JSONNode)
	walk = func(n story.JSONNode) {
		k := n.Service + " " + n.Name + " " + n.Status
		if _, ok := want[k]; ok && n.Failed {
			want[k] = true
		}
		for _, c := range n.Children {
			walk(c)
		}
	}
	for _, tr := range j.Tree {
		for _, r := range tr.Roots {
			walk(r)
		}
	}
	for k, found := range want {
		if !found {
			t.Errorf("no failed span %q in the story", k)
		}
	}
	sentryIDs := 0
	for _, raw := range j.Logs {
		var d map[string]any
		_ = json.Unmarshal(raw, &d)
		if d["correlation.id"] != failedID {
			t.Errorf("log line without the correlation ID: %s", raw)
		}
		if _, ok := d["error.id"]; ok {
			sentryIDs++
		}
	}
	if sentryIDs != 3 {
		t.Errorf("%d log lines carry a Sentry event ID, want 3 (one per service)", sentryIDs)
	}
	if *record {
		keepDataset(t, dir, datasetDir)
	}
}

// keepDataset copies the files of dir to the dataset directory to.
func keepDataset(t *testing.T, dir, to string) {
	if err := os.RemoveAll(to); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// service is one of the three.
type service struct {
	tel  *glassbox.Telemetry
	opts []middleware.Option
}

func startService(t *testing.T, name, dir, dsn string) *service {
	t.Helper()
	tel, err := glassbox.Start(context.Background(),
		glassbox.WithServiceName(name), glassbox.WithServiceVersion("1.4.2"), glassbox.WithEnvironment("demo"),
		glassbox.WithFileDir(dir), glassbox.WithLogWriter(nil), glassbox.WithoutSetDefault(),
		glassbox.WithSentry(sentry.WithDSN(dsn)))
	if err != nil {
		t.Fatal(err)
	}
	return &service{tel: tel, opts: tel.MiddlewareOptions()}
}

// recordCheckout sends one checkout per correlation ID in ids, in order:
// okID succeeds, any other fails in ledger (its memo has markup).
func recordCheckout(t *testing.T, dir string, ids ...string) {
	sentrySrv := sentrytest.NewServer(t)
	frontend := startService(t, "frontend", dir, sentrySrv.DSN())
	payments := startService(t, "payments", dir, sentrySrv.DSN())
	ledger := startService(t, "ledger", dir, sentrySrv.DSN())

	ledgerURL := serveHTTP(t, ledger, ledgerHandler(ledger))
	paymentsAddr := serveGRPC(t, payments, &paymentsServer{svc: payments, ledgerURL: ledgerURL,
		client: &http.Client{Transport: middleware.Transport(nil, payments.opts...)}})
	conn, err := grpc.NewClient(paymentsAddr, append(grpcmw.DialOptions(frontend.opts...),
		grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	frontURL := serveHTTP(t, frontend, frontendHandler(frontend, conn))

	for _, id := range ids {
		memo := "gift"
		if id != okID {
			memo = "\x1b[2J<script>alert('memo')</script>"
		}
		req, _ := http.NewRequest("POST", frontURL+"/checkout", strings.NewReader(memo))
		req.Header.Set("X-Correlation-ID", id)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if want := map[bool]int{true: 200, false: 502}[id == okID]; resp.StatusCode != want {
			t.Errorf("%s: HTTP %d, want %d", id, resp.StatusCode, want)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, s := range []*service{frontend, payments, ledger} {
		if err := s.tel.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

func serveHTTP(t *testing.T, s *service, h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: middleware.HTTP(s.opts...)(h), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// frontendHandler: POST /checkout charges the card through payments and
// notifies the customer in a job of its own (a new trace, the same
// correlation ID).
func frontendHandler(s *service, conn *grpc.ClientConn) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /checkout", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		log := s.tel.Logger()
		memo, _ := io.ReadAll(r.Body)
		log.InfoContext(ctx, "checkout started", "cart.items", 3, "amount", 4200)
		// Stock is reserved while the card is charged: work off the
		// critical path.
		reserved := make(chan struct{})
		go func() {
			defer close(reserved)
			sctx, sp := s.tel.TracerProvider().Tracer("frontend/stock").Start(ctx, "reserve stock")
			time.Sleep(4 * time.Millisecond)
			log.InfoContext(sctx, "stock reserved", "sku", "KB-42", "quantity", 1)
			sp.End()
		}()
		out := new(wrapperspb.StringValue)
		err := conn.Invoke(ctx, "/payments.Payments/Charge", wrapperspb.String(string(memo)), out)
		<-reserved
		if err != nil {
			log.ErrorContext(ctx, "payment failed", "err", err)
			notify(s, ctx, "payment failed")
			http.Error(w, "payment failed", http.StatusBadGateway)
			return
		}
		log.InfoContext(ctx, "order placed", "receipt", out.GetValue())
		_, _ = io.WriteString(w, "ok\n")
	})
	return mux
}

// notify runs the customer notification as a job with its own root span.
func notify(s *service, ctx context.Context, what string) {
	ctx, span := s.tel.TracerProvider().Tracer("frontend/jobs").Start(ctx, "notify customer", oteltrace.WithNewRoot())
	defer span.End()
	time.Sleep(2 * time.Millisecond)
	s.tel.Logger().InfoContext(ctx, "customer notified", "reason", what, "channel", "email")
}

// paymentsServer is the gRPC service payments.Payments (hand-written
// descriptor, no generated code).
type paymentsServer struct {
	svc       *service
	ledgerURL string
	client    *http.Client
}

func (p *paymentsServer) charge(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
	log := p.svc.tel.Logger()
	log.InfoContext(ctx, "charging card", "amount", 4200, "currency", "EUR", "card_number", "4111111111111111")
	time.Sleep(3 * time.Millisecond)
	req, _ := http.NewRequestWithContext(ctx, "POST", p.ledgerURL+"/entries", strings.NewReader(in.GetValue()))
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		err := fmt.Errorf("ledger answered %d", resp.StatusCode)
		log.ErrorContext(ctx, "ledger rejected the entry", "err", err)
		return nil, status.Error(codes.Internal, err.Error())
	}
	return wrapperspb.String("rcpt-" + resp.Header.Get("X-Entry")), nil
}

var paymentsDesc = grpc.ServiceDesc{
	ServiceName: "payments.Payments",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Charge",
		Handler: func(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.StringValue)
			if err := dec(in); err != nil {
				return nil, err
			}
			h := func(ctx context.Context, req any) (any, error) {
				return srv.(*paymentsServer).charge(ctx, req.(*wrapperspb.StringValue))
			}
			if icpt == nil {
				return h(ctx, in)
			}
			return icpt(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: "/payments.Payments/Charge"}, h)
		},
	}},
}

func serveGRPC(t *testing.T, s *service, impl *paymentsServer) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpcmw.ServerOptions(s.opts...)...)
	gs.RegisterService(&paymentsDesc, impl)
	go func() { _ = gs.Serve(ln) }()
	t.Cleanup(gs.Stop)
	return ln.Addr().String()
}

// ledgerHandler: POST /entries writes the entry in a database span; a
// memo with markup makes the write fail, with an error that carries its
// stack (error.stack_trace).
func ledgerHandler(s *service) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /entries", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		log := s.tel.Logger()
		memo, _ := io.ReadAll(r.Body)
		log.InfoContext(ctx, "writing entry", "account", "acct-118", "amount", 4200)
		dctx, db := s.tel.TracerProvider().Tracer("ledger/db").Start(ctx, "INSERT ledger_entries",
			oteltrace.WithSpanKind(oteltrace.SpanKindClient))
		time.Sleep(12 * time.Millisecond)
		if bytes.ContainsAny(memo, "<\x1b") {
			log.WarnContext(dctx, "memo rejected: "+string(memo))
			// An error with its stack: the story shows where it was made.
			err := gberrors.New("check constraint memo_plain violated")
			db.RecordError(err)
			db.SetStatus(otelcodes.Error, err.Error())
			db.End()
			log.ErrorContext(ctx, "ledger write failed", "err", err)
			http.Error(w, "ledger write failed", http.StatusInternalServerError)
			return
		}
		db.End()
		w.Header().Set("X-Entry", "e-9001")
		w.WriteHeader(http.StatusCreated)
	})
	return mux
}
