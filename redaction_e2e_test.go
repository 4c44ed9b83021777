package glassbox

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/exporter/otlp"
	"github.com/glassbox-obs/glassbox/exporter/sentry"
	"github.com/glassbox-obs/glassbox/internal/estest"
	"github.com/glassbox-obs/glassbox/internal/otlptest"
	"github.com/glassbox-obs/glassbox/internal/sentrytest"
	"github.com/glassbox-obs/glassbox/internal/testutil"
	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/middleware/grpcmw"
	"go.opentelemetry.io/otel/attribute"
	oteltrace "go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// The secrets of one request, one per place a client puts a credential.
// Each is unique, so a leak names the place it came from; each is made of
// letters and digits, so its URL-escaped and JSON-escaped forms are the
// raw form and the scan looks for base64 forms besides.
const (
	secretBearer = "Bearer7xAUTHq2Lm9Vz"    // Authorization: Bearer <it>
	secretCookie = "Sess1onCOOKIEw8Rt3Kp"   // Cookie: session=<it>
	secretAPIKey = "ApiKeyQUERYn4Jd6Hs"     // ?api_key=<it>
	secretAmzSig = "AmzSigPRESIGNEDc5Xe2Wq" // &X-Amz-Signature=<it>
	secretBody   = "PassW0rdBODYt9Gf1Yb"    // {"password":"<it>"}, logged by the handler
	secretGRPC   = "GrpcBearerMETADATAk3Nv" // gRPC metadata authorization: Bearer <it>
	secretGRPCKy = "GrpcApiKeyMETADATAp7Qz" // gRPC metadata x-api-key: <it>
)

var requestSecrets = map[string]string{
	"Authorization header": secretBearer,
	"Cookie header":        secretCookie,
	"api_key query":        secretAPIKey,
	"X-Amz-Signature":      secretAmzSig,
	"JSON body password":   secretBody,
	"gRPC authorization":   secretGRPC,
	"gRPC x-api-key":       secretGRPCKy,
}

// loginRequest is what the handler decodes the body into and logs, as a
// handler that logs its input does.
type loginRequest struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

// TestRedactionEndToEnd starts glassbox with every output on at once
// (stdout, the file exporter, Elasticsearch with a write-ahead spool,
// OTLP logs and traces, Sentry, the error handler) and sends one HTTP
// request that carries a credential in every usual place: an
// Authorization header, a session cookie, an API key and a presigned-URL
// signature in the query, a password in a JSON body that the handler
// logs (decoded: as a struct, a map and json.RawMessage) and sets on its
// span, and then the request's credentials in a panic message (not the
// body's password: glassbox never sees the body, see SECURITY.md); and
// one gRPC call with credentials in its metadata, logged and quoted in a
// panic the same way. Every byte that left the process is kept: the
// stdout stream, every file written (exporter files and spool segments,
// the spool read while Elasticsearch is down so that it holds the
// requests), every HTTP request sent to Elasticsearch, the OTLP collector
// and Sentry (method, URL, headers and the body, gunzipped; over gRPC the
// collector's metadata and payloads), the responses to the clients and
// what the error handler was told. None holds any secret, in raw,
// URL-escaped, JSON-escaped or base64 form; and every output holds both
// requests' correlation IDs and records, so the scan cannot pass on
// outputs that got nothing.
func TestRedactionEndToEnd(t *testing.T) {
	for _, p := range []otlp.Protocol{otlp.ProtocolHTTPProtobuf, otlp.ProtocolGRPC} {
		t.Run(string(p), func(t *testing.T) { redactionEndToEnd(t, p) })
	}
}

func redactionEndToEnd(t *testing.T, protocol otlp.Protocol) {
	es := estest.New(t)
	esTap := newTap(t, "elasticsearch", es.URL())
	esTap.failBulk.Store(true) // until the spool was read
	otlpSrv := otlpServer(t, protocol)
	otlpURL := otlpSrv.Endpoint()
	var otlpTap *tap
	if protocol != otlp.ProtocolGRPC {
		otlpTap = newTap(t, "otlp", otlpSrv.Endpoint())
		otlpURL = otlpTap.URL
	}
	sentrySrv := sentrytest.NewServer(t)
	sentryTap := newTap(t, "sentry", sentrySrv.URL())
	dsn := strings.Replace(sentrySrv.DSN(), strings.TrimPrefix(sentrySrv.URL(), "http://"), strings.TrimPrefix(sentryTap.URL, "http://"), 1)
	fileDir, spoolDir := t.TempDir(), t.TempDir()
	stdout, errs := &testutil.Buffer{}, &errorRecorder{}

	tel, err := Start(context.Background(), env(), WithoutSetDefault(),
		WithServiceName("login"), WithLogWriter(stdout), WithErrorHandler(errs),
		WithFileDir(fileDir),
		WithElasticsearch(elasticsearch.WithAddresses(esTap.URL), elasticsearch.WithSpoolDir(spoolDir),
			elasticsearch.WithSpoolMode(elasticsearch.SpoolAlways), elasticsearch.WithFlushInterval(10*time.Millisecond),
			elasticsearch.WithBackoff(10*time.Millisecond, 50*time.Millisecond)),
		WithOTLP(otlp.WithProtocol(protocol), otlp.WithEndpointURL(otlpURL), otlpFastRetry),
		WithSentry(sentry.WithDSN(dsn), sentry.WithAggregationWindow(0)))
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	shutdown := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := tel.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	}
	var once sync.Once
	t.Cleanup(func() { once.Do(shutdown) })

	// What a login handler does: decode the body, log what it got, and
	// fail with a message naming the credentials it was given.
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var in loginRequest
		var asMap map[string]any
		if json.Unmarshal(body, &in) != nil || json.Unmarshal(body, &asMap) != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		slog.New(tel.Handler()).InfoContext(r.Context(), "login attempt", "request", in, "body", asMap, "raw", json.RawMessage(body))
		// And on the span, as a handler that annotates its span does.
		oteltrace.SpanFromContext(r.Context()).SetAttributes(attribute.String("login.password", in.Password))
		oteltrace.SpanFromContext(r.Context()).AddEvent("login attempt", oteltrace.WithAttributes(attribute.String("password", in.Password)))
		// The credentials glassbox saw: the body is the handler's own,
		// and glassbox cannot know its password is one (SECURITY.md).
		session, _ := r.Cookie("session")
		panic(fmt.Sprintf("login failed: token %s, session %s, key %s, sig %s, header %q",
			strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), session.Value,
			r.URL.Query().Get("api_key"), r.URL.Query().Get("X-Amz-Signature"), r.Header.Get("Authorization")))
	})
	mwOpts := append(tel.MiddlewareOptions(), middleware.WithRequestHeaders("Authorization", "Cookie", "User-Agent"))
	app := httptest.NewServer(middleware.HTTP(mwOpts...)(mux))
	defer app.Close()

	req, err := http.NewRequest(http.MethodPost, app.URL+"/login?user=ann&api_key="+secretAPIKey+
		"&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature="+secretAmzSig,
		strings.NewReader(`{"user":"ann","password":"`+secretBody+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+secretBearer)
	req.Header.Set("Cookie", "session="+secretCookie+"; theme=dark")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	respDump, _ := httputil.DumpResponse(resp, true)
	resp.Body.Close()
	corrID := resp.Header.Get("X-Correlation-ID")
	if resp.StatusCode != http.StatusInternalServerError || corrID == "" {
		t.Fatalf("got status %d, X-Correlation-ID %q; want 500 and an ID", resp.StatusCode, corrID)
	}

	grpcCorr, grpcErr := callGRPCLogin(t, tel)

	// The spool holds every accepted record before Elasticsearch has it:
	// read it while Elasticsearch refuses, once it holds the panic record.
	var spool map[string][]byte
	testutil.WaitFor(t, 15*time.Second, "the spool to hold the request's panic record", func() bool {
		spool = readTree(t, spoolDir)
		return containsAll(spool, corrID, grpcCorr, "panic recovered", "grpc login failed")
	})
	esTap.failBulk.Store(false)
	testutil.WaitFor(t, 15*time.Second, "6 log documents in Elasticsearch", func() bool {
		return len(es.Docs("logs-login-default")) >= 6
	})
	once.Do(shutdown)

	outputs := map[string][]byte{
		"stdout":                    stdout.Bytes(),
		"response to the client":    respDump,
		"gRPC status to the client": []byte(grpcErr),
		"error handler":             errs.Bytes(),
		"Elasticsearch (HTTP)":      esTap.Bytes(),
		"Sentry (HTTP envelopes)":   sentryTap.Bytes(),
	}
	if otlpTap != nil {
		outputs["OTLP/HTTP (logs and traces)"] = otlpTap.Bytes()
	} else {
		outputs["OTLP/gRPC (logs and traces)"] = otlpPayloads(otlpSrv)
	}
	for name, b := range spool {
		outputs["spool file "+name] = b
	}
	for name, b := range readTree(t, fileDir) {
		outputs["exporter file "+name] = b
	}

	// Positive: each output got both requests.
	logs := []string{corrID, grpcCorr, "login attempt", "panic recovered", "request completed", "grpc login failed: token"}
	spans := []string{corrID, grpcCorr, "POST /login", "grpc.health.v1.Health/Check",
		"http.request.header.authorization", "rpc.grpc.request.metadata.x-api-key"}
	for name, want := range map[string][]string{
		"stdout":                  logs,
		"Elasticsearch (HTTP)":    append(logs, spans...),
		"Sentry (HTTP envelopes)": {corrID, grpcCorr, "login failed: token", "grpc login failed: token"},
		"exporter file logs-login-default.ndjson":   logs,
		"exporter file traces-login-default.ndjson": spans,
		"OTLP/HTTP (logs and traces)":               append(logs, spans...),
		"OTLP/gRPC (logs and traces)":               append(logs, spans...),
	} {
		b, ok := outputs[name]
		if !ok && strings.HasPrefix(name, "OTLP") {
			continue // the other protocol
		}
		if !ok {
			t.Errorf("no output %q (have %v)", name, keys(outputs))
			continue
		}
		for _, w := range want {
			if !bytes.Contains(b, []byte(w)) {
				t.Errorf("%s: holds no %q: the scan would prove nothing", name, w)
			}
		}
	}
	for _, field := range []string{`"http.request.header.authorization":"[REDACTED]"`, `"http.request.header.cookie":"[REDACTED]"`,
		`"rpc.grpc.request.metadata.authorization":"[REDACTED]"`, `"rpc.grpc.request.metadata.x-api-key":"[REDACTED]"`} {
		if !bytes.Contains(outputs["exporter file traces-login-default.ndjson"], []byte(field)) {
			t.Errorf("the span documents hold no %s", field)
		}
	}
	// The placeholder is where each secret was: the body three times
	// (struct, map, raw JSON), the two captured headers and the two query
	// values in the access record, and five times in the panic record;
	// for gRPC the two logged metadata values and two in the panic record
	// (captured metadata go on the span: rpc.request.metadata.*).
	if n := bytes.Count(outputs["stdout"], []byte(log.Redacted)); n != 16 {
		t.Errorf("stdout: got %d %s, want 16", n, log.Redacted)
	}

	// Negative: no secret, in any form, anywhere.
	for name, b := range outputs {
		for where, secret := range requestSecrets {
			for form, s := range secretForms(secret) {
				if i := bytes.Index(b, []byte(s)); i >= 0 {
					t.Errorf("%s: the %s secret (%s form) leaked: ...%s...", name, where, form,
						b[max(0, i-120):min(len(b), i+len(s)+40)])
				}
			}
		}
	}
}

// callGRPCLogin makes one gRPC call, through the interceptors of tel,
// with credentials in its metadata; the handler logs them (under
// credential keys) and panics with a message quoting them. It returns
// the call's correlation ID and the status the client got.
func callGRPCLogin(t *testing.T, tel *Telemetry) (corrID, clientStatus string) {
	t.Helper()
	opts := append(tel.MiddlewareOptions(), middleware.WithSkipGRPCMethods(), // instrument Health too
		middleware.WithRequestHeaders("authorization", "x-api-key"))
	gs := grpc.NewServer(grpcmw.ServerOptions(opts...)...)
	healthpb.RegisterHealthServer(gs, loginHealth{tel: tel})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() { defer close(served); _ = gs.Serve(lis) }()
	defer func() { gs.Stop(); <-served }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+secretGRPC, "x-api-key", secretGRPCKy)
	var hdr metadata.MD
	_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Header(&hdr))
	if status.Code(err) != codes.Internal || len(hdr.Get("x-correlation-id")) != 1 {
		t.Fatalf("got %v and header %v, want Internal and a correlation ID", err, hdr)
	}
	return hdr.Get("x-correlation-id")[0], err.Error()
}

// loginHealth is a gRPC handler that fails as the HTTP login one does.
type loginHealth struct {
	healthpb.UnimplementedHealthServer
	tel *Telemetry
}

func (h loginHealth) Check(ctx context.Context, _ *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	auth, key := md.Get("authorization")[0], md.Get("x-api-key")[0]
	slog.New(h.tel.Handler()).InfoContext(ctx, "grpc login attempt", "credentials", map[string]string{"authorization": auth, "api_key": key})
	panic(fmt.Sprintf("grpc login failed: token %s, key %s", strings.TrimPrefix(auth, "Bearer "), key))
}

// secretForms is a secret as it may appear in an output: raw (also its
// URL-escaped and JSON-escaped form, for a secret of letters and digits),
// and base64 in the standard and URL alphabets, padded or not, at each
// of the three alignments it can have inside a longer encoded text.
func secretForms(s string) map[string]string {
	forms := map[string]string{"raw": s}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawURLEncoding} {
		for shift := 0; shift < 3; shift++ {
			// Encode with shift bytes ahead; keep the characters that
			// depend on the secret's bytes only.
			e := enc.EncodeToString(append(bytes.Repeat([]byte{0}, shift), s...))
			start := (shift*8 + 5) / 6
			end := (len(s) + shift) * 8 / 6
			forms[fmt.Sprintf("base64 +%d", shift)] = e[start:end]
		}
	}
	return forms
}

// otlpPayloads returns the metadata and payload of every request the
// collector received.
func otlpPayloads(s *otlptest.Server) []byte {
	var b bytes.Buffer
	for _, sig := range []otlptest.Signal{otlptest.Traces, otlptest.Logs, otlptest.Metrics} {
		for _, r := range s.Requests(sig) {
			fmt.Fprintf(&b, "%s\n", r.Path)
			_ = r.Header.Write(&b)
			b.Write(r.Body)
			b.WriteString("\n\n")
		}
	}
	return b.Bytes()
}

// readTree returns every regular file under dir, by relative path.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil // removed while walking
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func containsAll(files map[string][]byte, subs ...string) bool {
	all := bytes.Join(mapValues(files), nil)
	for _, s := range subs {
		if !bytes.Contains(all, []byte(s)) {
			return false
		}
	}
	return true
}

func mapValues(m map[string][]byte) [][]byte {
	var out [][]byte
	for _, k := range keys(m) {
		out = append(out, m[k])
	}
	return out
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// tap is a reverse proxy in front of a test server that keeps every
// request it forwards as bytes: request line, headers, and the body
// (gunzipped when it was sent compressed, so the scan reads the text).
type tap struct {
	*httptest.Server
	mu       sync.Mutex
	buf      bytes.Buffer
	failBulk atomic.Bool // answer 503 to _bulk requests, as a cluster that is down
}

func newTap(t *testing.T, name, target string) *tap {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	tp := &tap{}
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(u) }}
	tp.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		text := body
		if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err == nil {
				text, err = io.ReadAll(zr)
			}
			if err != nil {
				t.Errorf("%s tap: bad gzip body: %v", name, err)
			}
		}
		tp.mu.Lock()
		fmt.Fprintf(&tp.buf, "%s %s\n", r.Method, r.URL.RequestURI())
		_ = r.Header.Write(&tp.buf)
		tp.buf.Write(text)
		tp.buf.WriteString("\n\n")
		tp.mu.Unlock()
		if tp.failBulk.Load() && strings.HasSuffix(r.URL.Path, "/_bulk") {
			w.Header().Set("X-Elastic-Product", "Elasticsearch")
			http.Error(w, `{"error":"unavailable","status":503}`, http.StatusServiceUnavailable)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(tp.Close)
	return tp
}

// Bytes returns everything the tap forwarded so far.
func (tp *tap) Bytes() []byte {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return bytes.Clone(tp.buf.Bytes())
}

// errorRecorder is an otel.ErrorHandler that keeps what it is told.
type errorRecorder struct{ testutil.Buffer }

func (e *errorRecorder) Handle(err error) { fmt.Fprintln(&e.Buffer, err) }
