package otlptest

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"
)

func TestSetDelay(t *testing.T) {
	t.Parallel()
	s := NewHTTP(t)
	const d = 300 * time.Millisecond
	s.SetDelay(d)
	start := time.Now()
	if resp := post(t, s.Endpoint()+"/v1/traces", "application/x-protobuf", "", traceBody(t, 2)); resp.StatusCode != 200 {
		t.Fatalf("delayed request: got %d, want 200", resp.StatusCode)
	}
	if took := time.Since(start); took < d {
		t.Errorf("answered after %v, want at least %v", took, d)
	}
	// A client that gives up first is not counted as delivered.
	ctx, cancel := context.WithTimeout(context.Background(), d/10)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.Endpoint()+"/v1/traces", bytes.NewReader(traceBody(t, 5)))
	req.Header.Set("Content-Type", "application/x-protobuf")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("client with a %v timeout: got %d, want its timeout", d/10, resp.StatusCode)
	}
	s.SetDelay(0)
	post(t, s.Endpoint()+"/v1/traces", "application/x-protobuf", "", traceBody(t, 1))
	if got := len(s.Spans()); got != 3 {
		t.Errorf("got %d spans accepted, want 3 (2 delayed + 1, not the 5 given up)", got)
	}
}

func TestTake(t *testing.T) {
	t.Parallel()
	s := NewHTTP(t)
	post(t, s.Endpoint()+"/v1/traces", "application/x-protobuf", "", traceBody(t, 2))
	spans, logs := s.Take()
	if len(spans) != 2 || len(logs) != 0 {
		t.Fatalf("Take: got %d spans and %d logs, want 2 and 0", len(spans), len(logs))
	}
	if len(s.Spans()) != 0 || len(s.Requests(Traces)) != 0 {
		t.Errorf("after Take: %d spans and %d requests still recorded, want none", len(s.Spans()), len(s.Requests(Traces)))
	}
	post(t, s.Endpoint()+"/v1/traces", "application/x-protobuf", "", traceBody(t, 1))
	if spans, _ := s.Take(); len(spans) != 1 {
		t.Errorf("second Take: got %d spans, want 1", len(spans))
	}
}
