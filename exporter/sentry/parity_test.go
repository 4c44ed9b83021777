package sentry_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/glassbox-obs/glassbox/errors"
	gbsentry "github.com/glassbox-obs/glassbox/exporter/sentry"
	"github.com/glassbox-obs/glassbox/internal/sentrytest"
	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/middleware"
)

// outputs is one service whose every output is kept: log records in a
// buffer, spans in memory, events at a Sentry test server.
type outputs struct {
	srv    *sentrytest.Server
	rep    *gbsentry.Reporter
	logs   *syncBuffer
	logger *slog.Logger
	spans  *tracetest.InMemoryExporter
	mwOpts []middleware.Option
}

func newOutputs(t *testing.T, mwOpts ...middleware.Option) *outputs {
	t.Helper()
	o := &outputs{srv: sentrytest.NewServer(t), logs: &syncBuffer{}, spans: tracetest.NewInMemoryExporter()}
	o.rep = newReporter(t, o.srv, gbsentry.WithAggregationWindow(0))
	o.logger = slog.New(log.NewHandler(log.WithWriter(o.logs), log.WithSink(o.rep)))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(o.spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	o.mwOpts = append([]middleware.Option{middleware.WithObservers(o.rep), middleware.WithLogger(o.logger),
		middleware.WithTracerProvider(tp)}, mwOpts...)
	return o
}

// span returns the only span of the given kind whose attribute key has
// a value, failing otherwise.
func (o *outputs) span(t *testing.T, name string) tracetest.SpanStub {
	t.Helper()
	var found []tracetest.SpanStub
	for _, s := range o.spans.GetSpans() {
		if s.SpanKind.String() == name {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("got %d %s spans, want 1", len(found), name)
	}
	return found[0]
}

func attr(s tracetest.SpanStub, key string) attribute.Value {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value
		}
	}
	return attribute.Value{}
}

// hostileURLs is the one table every output is driven with: each query
// is sent as is (the request, the Referer, the Origin, the outgoing call),
// with user info and a fragment around it.
var hostileURLs = []struct {
	name, query, want string // want: "" when the value is cut (compared across outputs only)
}{
	{"nested key", "user[password]=SECRET-01&user[name]=bob", "user[password]=[REDACTED]&user[name]=bob"},
	{"escaped nested key", "user%5Bpassword%5D=SECRET-02&a=1", "user%5Bpassword%5D=[REDACTED]&a=1"},
	{"deeply nested key", "a[b][c][api_key]=SECRET-03&a[b][d]=x", "a[b][c][api_key]=[REDACTED]&a[b][d]=x"},
	{"AWS presigned", "X-Amz-Algorithm=AWS4&X-Amz-Credential=SECRET-04&X-Amz-Security-Token=SECRET-05&X-Amz-Signature=SECRET-06&X-Amz-Expires=60",
		"X-Amz-Algorithm=AWS4&X-Amz-Credential=[REDACTED]&X-Amz-Security-Token=[REDACTED]&X-Amz-Signature=[REDACTED]&X-Amz-Expires=60"},
	{"AWS SigV2", "AWSAccessKeyId=SECRET-07&Expires=1&Signature=SECRET-08", "AWSAccessKeyId=[REDACTED]&Expires=1&Signature=[REDACTED]"},
	{"GCS presigned", "GoogleAccessId=SECRET-09&X-Goog-Credential=SECRET-10&X-Goog-Signature=SECRET-11&X-Goog-Date=1",
		"GoogleAccessId=[REDACTED]&X-Goog-Credential=[REDACTED]&X-Goog-Signature=[REDACTED]&X-Goog-Date=1"},
	{"Azure SAS", "sv=2022-11-02&sp=r&se=2030-01-01&sig=SECRET-12%3D", "sv=2022-11-02&sp=r&se=2030-01-01&sig=[REDACTED]"},
	{"case, plus, escapes", "API+KEY=SECRET-13&%54oken=SECRET-14&Session=SECRET-15&page=2",
		"API+KEY=[REDACTED]&%54oken=[REDACTED]&Session=[REDACTED]&page=2"},
	{"odd pairs", "&&password=&secret=SECRET-16=x&flag&=v&token", "&&password=[REDACTED]&secret=[REDACTED]&flag&=v&token"},
	{"escaped controls kept escaped", "q=%0d%0a%1b%E2%80%A8&pwd=SECRET-17", "q=%0d%0a%1b%E2%80%A8&pwd=[REDACTED]"},
	{"long value before a secret", "pad=" + strings.Repeat("A", 3000) + "&password=SECRET-18", ""},
}

// TestRedactionParity drives every hostile URL through a real HTTP
// request into the middleware (with a Sentry reporter, Referer and Origin
// captured) whose handler calls out through middleware.Transport with the
// same URL, then fails: the access log's url.query, the server span's
// url.query and Sentry's query_string are byte for byte the same, as are
// the Referer and Origin in the access log, the span and the event; the
// client span's url.full is the same redaction; no secret, user info or
// fragment reaches any output.
func TestRedactionParity(t *testing.T) {
	for _, tt := range hostileURLs {
		t.Run(tt.name, func(t *testing.T) {
			o := newOutputs(t, middleware.WithRequestHeaders("Referer", "Origin"))
			downstream := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			defer downstream.Close()
			client := &http.Client{Transport: middleware.Transport(nil, o.mwOpts...)}
			out := strings.Replace(downstream.URL, "http://", "http://user-SECRET-U:pw-SECRET-U@", 1) + "/p?" + tt.query + "#frag-SECRET-F"
			ts := httptest.NewServer(middleware.HTTP(o.mwOpts...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, "http://placeholder/", nil)
				if err != nil {
					t.Error(err)
				}
				req.URL = mustURL(t, out)
				if resp, err := client.Do(req); err == nil {
					resp.Body.Close()
				} else {
					t.Error(err)
				}
				w.WriteHeader(http.StatusInternalServerError)
			})))
			defer ts.Close()

			req, _ := http.NewRequest(http.MethodGet, ts.URL+"/p", nil)
			req.URL.RawQuery = tt.query
			req.Header.Set("Referer", "https://user-SECRET-U:pw-SECRET-U@app.example/p?"+tt.query+"#frag-SECRET-F")
			req.Header.Set("Origin", "https://user-SECRET-U:pw-SECRET-U@app.example")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()

			ev := events(t, o.rep, o.srv, 1)[0]
			acc := recordsOf(t, o.logs, "request completed")
			if len(acc) != 1 {
				t.Fatalf("got %d access records, want 1", len(acc))
			}
			server, clientSpan := o.span(t, "server"), o.span(t, "client")
			sameAll(t, "query", tt.want, map[string]string{
				"access log url.query":     str(acc[0], "url.query"),
				"server span url.query":    attr(server, "url.query").AsString(),
				"sentry query_string":      str(ev, "request", "query_string"),
				"redactor (one reference)": log.NewRedactor().RedactQuery(tt.query, 1024),
			})
			wantReferer := ""
			if tt.want != "" {
				wantReferer = "https://app.example/p?" + tt.want
			}
			sameAll(t, "Referer", wantReferer, map[string]string{
				"access log":  str(acc[0], "http.request.header.referer"),
				"server span": first(attr(server, "http.request.header.referer").AsStringSlice()),
				"sentry":      headers(ev)["Referer"],
			})
			sameAll(t, "Origin", "https://app.example", map[string]string{
				"access log":  str(acc[0], "http.request.header.origin"),
				"server span": first(attr(server, "http.request.header.origin").AsStringSlice()),
				"sentry":      headers(ev)["Origin"],
			})
			wantFull := ""
			if tt.want != "" {
				wantFull = downstream.URL + "/p?" + tt.want
			}
			sameAll(t, "url.full", wantFull, map[string]string{
				"client span": attr(clientSpan, "url.full").AsString(),
				"redactor":    log.NewRedactor().RedactURL(out, 2048),
			})
			if got, want := str(ev, "request", "url"), ts.URL+"/p"; got != want {
				t.Errorf("got sentry request.url %q, want %q", got, want)
			}
			everything := o.logs.String() + fmt.Sprint(o.spans.GetSpans())
			for _, env := range o.srv.Envelopes() {
				everything += string(env.Raw)
			}
			for _, s := range []string{"SECRET", "frag"} {
				if i := strings.Index(everything, s); i >= 0 {
					t.Errorf("an output contains %q: ...%s...", s, everything[max(0, i-80):min(len(everything), i+20)])
				}
			}
		})
	}
}

// sameAll fails unless every output has the same value, and want when
// want is not "".
func sameAll(t *testing.T, what, want string, got map[string]string) {
	t.Helper()
	var ref, refName string
	for name, v := range got {
		if refName == "" || name < refName {
			ref, refName = v, name
		}
	}
	for name, v := range got {
		if v != ref {
			t.Errorf("%s: %s = %q, but %s = %q", what, name, v, refName, ref)
		}
	}
	if want != "" && ref != want {
		t.Errorf("%s: got %q, want %q", what, ref, want)
	}
	if ref == "" {
		t.Errorf("%s: got nothing", what)
	}
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestErrorTypeParity: the same failure has one error.type in the log
// record that carries it, the panic record, the access record, the
// server span (attribute and exception event) and the Sentry event: the
// type of the first error that is not an attribute carrier.
func TestErrorTypeParity(t *testing.T) {
	tests := []struct {
		name string
		err  func() error
		want string
	}{
		{"With around Wrap", func() error { return errors.With(errors.Wrap(errors.New("root"), "charge"), "order_id", 7) }, "*errors.Error"},
		{"With around fmt %w", func() error { return errors.With(fmt.Errorf("open: %w", fs.ErrNotExist), "path", "/x") }, "*errors.errorString"},
		{"With around With", func() error {
			return errors.With(errors.With(&fs.PathError{Op: "open", Err: fs.ErrNotExist}, "a", 1), "b", 2)
		}, "*fs.PathError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOutputs(t)
			ts := httptest.NewServer(middleware.HTTP(o.mwOpts...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				err := tt.err()
				o.logger.ErrorContext(r.Context(), "charge failed", "err", err)
				panic(err)
			})))
			defer ts.Close()
			resp, err := http.Get(ts.URL + "/pay")
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			ev := events(t, o.rep, o.srv, 1)[0]
			span := o.span(t, "server")
			var excType string
			for _, e := range span.Events {
				if e.Name == "exception" {
					for _, kv := range e.Attributes {
						if kv.Key == "exception.type" {
							excType = kv.Value.AsString()
						}
					}
				}
			}
			one := func(msg string) map[string]any {
				recs := recordsOf(t, o.logs, msg)
				if len(recs) != 1 {
					t.Fatalf("got %d %q records, want 1", len(recs), msg)
				}
				return recs[0]
			}
			sameAll(t, "error.type", tt.want, map[string]string{
				"log record":            str(one("charge failed"), "error.type"),
				"panic record":          str(one("panic recovered"), "error.type"),
				"access record":         str(one("request completed"), "error.type"),
				"span error.type":       attr(span, "error.type").AsString(),
				"span exception.type":   excType,
				"sentry error.type tag": str(ev, "tags", "error.type"),
			})
			if bytes.Contains(o.srv.Envelopes()[0].Raw, []byte("attrError")) {
				t.Error("the event names errors.With's wrapper")
			}
		})
	}
}

// TestPanicMessageScrubParity: a handler that panics, or fails a gRPC
// call, with a message quoting the credentials of its request (header,
// cookie, query, metadata) is recorded with each of them replaced by
// [REDACTED], byte for byte the same in the server span's exception event
// and status, the "panic recovered" record (or the access record's
// error.message of a gRPC error) and the Sentry event's exception; an
// error logged at ERROR that becomes the event's exception is scrubbed
// there too.
func TestPanicMessageScrubParity(t *testing.T) {
	const (
		bearer = "tok-BEARER-9f8e7d"
		cookie = "sess-COOKIE-6c5b4a"
		apiKey = "key-QUERY-3928fa"
		sig    = "sig-AZURE-771ab0"
		basic  = "pw-BASIC-55aa66"
		mdKey  = "key-METADATA-0c1d2e"
	)
	secrets := []string{bearer, cookie, apiKey, sig, basic, mdKey}
	check := func(t *testing.T, o *outputs, want string, got map[string]string) {
		t.Helper()
		sameAll(t, "message", want, got)
		everything := o.logs.String() + fmt.Sprint(o.spans.GetSpans())
		for _, env := range o.srv.Envelopes() {
			everything += string(env.Raw)
		}
		for _, s := range secrets {
			if i := strings.Index(everything, s); i >= 0 {
				t.Errorf("an output contains %q: ...%s...", s, everything[max(0, i-80):min(len(everything), i+20)])
			}
		}
	}
	exceptionEvent := func(s tracetest.SpanStub) string {
		for _, e := range s.Events {
			for _, kv := range e.Attributes {
				if kv.Key == "exception.message" {
					return kv.Value.AsString()
				}
			}
		}
		return ""
	}
	lastException := func(ev map[string]any) string {
		exc := exceptions(t, ev)
		if len(exc) == 0 {
			return ""
		}
		return str(exc[len(exc)-1], "value")
	}

	t.Run("http panic", func(t *testing.T) {
		o := newOutputs(t)
		ts := httptest.NewServer(middleware.HTTP(o.mwOpts...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, _ := r.Cookie("session")
			panic(fmt.Sprintf("refused %s (cookie %s, key %s, sig %s)", r.Header.Get("Authorization"), c.Value,
				r.URL.Query().Get("api_key"), r.URL.Query().Get("sig")))
		})))
		defer ts.Close()
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/p?api_key="+apiKey+"&sig="+sig+"&page=2", nil)
		req.Header.Set("Authorization", "Bearer "+bearer)
		req.Header.Set("Cookie", "session="+cookie)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		ev := events(t, o.rep, o.srv, 1)[0]
		rec := recordsOf(t, o.logs, "panic recovered")
		if len(rec) != 1 {
			t.Fatalf("got %d panic records, want 1", len(rec))
		}
		server := o.span(t, "server")
		check(t, o, "refused [REDACTED] (cookie [REDACTED], key [REDACTED], sig [REDACTED])", map[string]string{
			"span exception event":       exceptionEvent(server),
			"span status":                strings.TrimPrefix(server.Status.Description, "panic: "),
			"panic record error.message": str(rec[0], "error.message"),
			"sentry exception":           lastException(ev),
		})
	})

	// An error logged at ERROR becomes the event's exception: its message
	// is scrubbed too (the record itself is written as logged: SECURITY.md).
	t.Run("http error record", func(t *testing.T) {
		o := newOutputs(t)
		ts := httptest.NewServer(middleware.HTTP(o.mwOpts...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			o.logger.ErrorContext(r.Context(), "auth failed", "err", fmt.Errorf("upstream refused key %s", r.URL.Query().Get("api_key")))
			w.WriteHeader(http.StatusBadGateway)
		})))
		defer ts.Close()
		resp, err := http.Get(ts.URL + "/p?api_key=" + apiKey)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		ev := events(t, o.rep, o.srv, 1)[0]
		if got, want := lastException(ev), "upstream refused key [REDACTED]"; got != want {
			t.Errorf("got exception %q, want %q", got, want)
		}
	})

	for _, tt := range []struct {
		name, value string
		want        string // "ann:<password>" decoded from Basic goes whole
		record      string // the record that carries the message
	}{
		{"grpc panic", "panic", "bad credentials [REDACTED] and [REDACTED]", "panic recovered"},
		{"grpc error", "error", "bad credentials [REDACTED] and [REDACTED]", "request completed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := newOutputs(t)
			impl := echoFunc(func(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
				md, _ := metadata.FromIncomingContext(ctx)
				dec, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(md.Get("authorization")[0], "Basic "))
				msg := fmt.Sprintf("bad credentials %s and %s", dec, md.Get("x-api-key")[0])
				if in.Value == "panic" {
					panic(msg)
				}
				return nil, status.Error(codes.Internal, msg)
			})
			conn := echoServer(t, impl, o.mwOpts)
			ctx := metadata.AppendToOutgoingContext(context.Background(),
				"authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("ann:"+basic)), "x-api-key", mdKey)
			if err := conn.Invoke(ctx, "/test.Echo/Unary", wrapperspb.String(tt.value), new(wrapperspb.StringValue)); status.Code(err) != codes.Internal {
				t.Fatalf("got %v, want Internal", err)
			}
			ev := events(t, o.rep, o.srv, 1)[0]
			rec := recordsOf(t, o.logs, tt.record)
			if len(rec) != 1 {
				t.Fatalf("got %d %q records, want 1", len(rec), tt.record)
			}
			server := o.span(t, "server")
			got := map[string]string{
				"record error.message": str(rec[0], "error.message"),
				"span status":          strings.TrimPrefix(server.Status.Description, "panic: "),
				"sentry exception":     strings.TrimPrefix(lastException(ev), "rpc error: code = Internal desc = "),
			}
			if tt.value == "panic" {
				got["span exception event"] = exceptionEvent(server)
			}
			check(t, o, tt.want, got)
		})
	}
}
