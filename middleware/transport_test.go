package middleware_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/trace"
)

func TestTransportPropagates(t *testing.T) {
	f := newFixture(t)
	var got http.Header
	var s seen
	srv := newServer(t, middleware.HTTP(f.opts()...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		capture(&s)(w, r)
	})))
	client := &http.Client{Transport: middleware.Transport(nil, f.opts()...)}

	ctx, parent := f.tp.Tracer("test").Start(context.Background(), "parent")
	ctx = trace.WithCorrelationID(ctx, "corr-42")
	m, _ := baggage.NewMember("tenant", "acme")
	bag, _ := baggage.New(m)
	ctx = baggage.ContextWithBaggage(ctx, bag)
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/x?token=s3cret&a=b", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	parent.End()

	if len(req.Header) != 0 {
		t.Errorf("the caller's request was modified: %v", req.Header)
	}
	if got.Get("X-Correlation-ID") != "corr-42" || got.Get("Traceparent") == "" || got.Get("Baggage") != "tenant=acme" {
		t.Errorf("outgoing headers: got %v", got)
	}
	if s.corrID != "corr-42" || s.traceID != parent.SpanContext().TraceID().String() || s.baggage != "tenant=acme" {
		t.Errorf("server saw correlation %q trace %q baggage %q", s.corrID, s.traceID, s.baggage)
	}
	if resp.Header.Get("X-Correlation-ID") != "corr-42" {
		t.Errorf("response X-Correlation-ID: got %q, want corr-42", resp.Header.Get("X-Correlation-ID"))
	}
	var client_, server oteltrace.SpanContext
	var clientParent oteltrace.SpanContext
	var serverParent oteltrace.SpanContext
	for _, sp := range f.exp.GetSpans() {
		switch sp.SpanKind {
		case oteltrace.SpanKindClient:
			client_, clientParent = sp.SpanContext, sp.Parent
			if sp.Name != "GET" {
				t.Errorf("client span name: got %q, want GET", sp.Name)
			}
			if v, _ := attrOf(sp.Attributes, "url.full"); v.AsString() != srv.URL+"/x?token=[REDACTED]&a=b" {
				t.Errorf("url.full: got %q", v.AsString())
			}
			if v, _ := attrOf(sp.Attributes, "http.response.status_code"); v.AsInt64() != 200 {
				t.Errorf("client status attribute: got %d", v.AsInt64())
			}
		case oteltrace.SpanKindServer:
			server, serverParent = sp.SpanContext, sp.Parent
		}
	}
	if clientParent.SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("client span parent: got %s, want %s", clientParent.SpanID(), parent.SpanContext().SpanID())
	}
	if serverParent.SpanID() != client_.SpanID() || server.TraceID() != parent.SpanContext().TraceID() {
		t.Errorf("server span: parent %s trace %s; want parent = client span %s, same trace", serverParent.SpanID(), server.TraceID(), client_.SpanID())
	}
}

type failingRT struct{}

func (failingRT) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("dial failed")
}

func TestTransportErrors(t *testing.T) {
	f := newFixture(t)
	client := &http.Client{Transport: middleware.Transport(failingRT{}, f.opts()...)}
	_, err := client.Get("http://127.0.0.1:1/")
	if err == nil {
		t.Fatal("got no error")
	}
	sp := f.span(t)
	if sp.Status.Code != codes.Error {
		t.Errorf("span status: got %v, want Error", sp.Status.Code)
	}

	f2 := newFixture(t)
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	client2 := &http.Client{Transport: middleware.Transport(nil, f2.opts()...)}
	resp, err := client2.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if sp := f2.span(t); sp.Status.Code != codes.Error {
		t.Errorf("503: span status got %v, want Error", sp.Status.Code)
	}
	_ = httptest.NewRecorder
}

// With custom correlation headers the client sends the ID under the first
// of them only, not also under the default header the propagator knows.
func TestTransportCustomCorrelationHeader(t *testing.T) {
	f := newFixture(t)
	var got http.Header
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Clone() }))
	client := &http.Client{Transport: middleware.Transport(nil, f.opts(middleware.WithCorrelationHeaders("X-Trace-Token"))...)}
	ctx := trace.WithCorrelationID(context.Background(), "corr-7")
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if v := got.Get("X-Trace-Token"); v != "corr-7" {
		t.Errorf("X-Trace-Token: got %q, want corr-7", v)
	}
	for _, h := range []string{"X-Correlation-Id", "X-Request-Id"} {
		if v, ok := got[h]; ok {
			t.Errorf("outgoing %s = %q, want none", h, v)
		}
	}
	if got.Get("Traceparent") == "" {
		t.Error("outgoing traceparent missing")
	}
}
