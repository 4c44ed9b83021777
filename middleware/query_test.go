package middleware_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/middleware"
)

// The query is redacted once and the same value goes to the span and to
// the access log; everything but the redacted values is kept as sent.
func TestHTTPQueryRedaction(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  string
	}{
		{"nothing to redact", "a=1&b=2", "a=1&b=2"},
		{"one value", "token=abc", "token=[REDACTED]"},
		{"several, order kept", "a=1&password=p&b=2&api_key=k", "a=1&password=[REDACTED]&b=2&api_key=[REDACTED]"},
		{"empty pairs kept", "&&token=abc&", "&&token=[REDACTED]&"},
		{"escaped key", "%74oken=abc&x=%20", "%74oken=[REDACTED]&x=%20"},
		{"key without value", "token&a=1", "token&a=1"},
		{"empty value", "token=&a=1", "token=[REDACTED]&a=1"},
		{"value with '='", "secret=a=b=c", "secret=[REDACTED]"},
		{"control characters sanitised", "q=a\x1bb&token=x", "q=a\uFFFDb&token=[REDACTED]"},
		{"nested key", "user[password]=s1&user[name]=bob", "user[password]=[REDACTED]&user[name]=bob"},
		{"escaped nested key", "user%5Bpassword%5D=s1&a=1", "user%5Bpassword%5D=[REDACTED]&a=1"},
		{"deeply nested key", "a%5Bb%5D%5Bapi_key%5D=k", "a%5Bb%5D%5Bapi_key%5D=[REDACTED]"},
		{"bad escape matched raw", "%zz_token=t&b=%zz", "%zz_token=[REDACTED]&b=%zz"},
		{"presigned AWS v2", "AWSAccessKeyId=AKIA&Expires=1&Signature=abc", "AWSAccessKeyId=[REDACTED]&Expires=1&Signature=[REDACTED]"},
		{"presigned Azure SAS", "sv=2020&sig=abc", "sv=2020&sig=[REDACTED]"},
		{"presigned GCS", "x-goog-signature=abc&X-Goog-Date=1", "x-goog-signature=[REDACTED]&X-Goog-Date=1"},
		{"presigned AWS v4", "X-Amz-Credential=AKIA%2F1&X-Amz-Signature=abc", "X-Amz-Credential=[REDACTED]&X-Amz-Signature=[REDACTED]"},
		{"presigned keys match whole", "signature_version=2&sigma=1&design=x", "signature_version=2&sigma=1&design=x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			h := middleware.HTTP(f.opts()...)(http.NotFoundHandler())
			req := httptest.NewRequest("GET", "/search", nil)
			req.URL.RawQuery = tt.query
			h.ServeHTTP(httptest.NewRecorder(), req)
			if got := f.record(t, "request completed")["url.query"]; got != tt.want {
				t.Errorf("log url.query: got %q, want %q", got, tt.want)
			}
			if v, _ := attrOf(f.span(t).Attributes, "url.query"); v.AsString() != tt.want {
				t.Errorf("span url.query: got %q, want %q", v.AsString(), tt.want)
			}
		})
	}
}

// With WithRedactor(nil) nothing is redacted, but the query is still
// sanitised.
func TestHTTPQueryWithoutRedactor(t *testing.T) {
	f := newFixture(t)
	h := middleware.HTTP(f.opts(middleware.WithRedactor(nil))...)(http.NotFoundHandler())
	req := httptest.NewRequest("GET", "/", nil)
	req.URL.RawQuery = "token=abc&x=\r"
	h.ServeHTTP(httptest.NewRecorder(), req)
	if got, want := f.record(t, "request completed")["url.query"], "token=abc&x=\uFFFD"; got != want {
		t.Errorf("url.query: got %q, want %q", got, want)
	}
}

// A header captured with several values: the span gets them as a list,
// the log joined, both capped at 8 values, from the same computation.
func TestHTTPCapturedHeaderValues(t *testing.T) {
	f := newFixture(t)
	h := middleware.HTTP(f.opts(middleware.WithRequestHeaders("X-Tenant", "X-Api-Key"))...)(http.NotFoundHandler())
	req := httptest.NewRequest("GET", "/", nil)
	for _, v := range []string{"a", "b\nc", "d", "e", "f", "g", "h", "i", "j"} {
		req.Header.Add("X-Tenant", v)
	}
	req.Header.Add("X-Api-Key", "k1")
	req.Header.Add("X-Api-Key", "k2")
	h.ServeHTTP(httptest.NewRecorder(), req)
	acc := f.record(t, "request completed")
	if got, want := acc["http.request.header.x-tenant"], "a, b\uFFFDc, d, e, f, g, h, i"; got != want {
		t.Errorf("log x-tenant: got %q, want %q", got, want)
	}
	// The log handler redacts the whole field by its name as well.
	if got := acc["http.request.header.x-api-key"]; got != log.Redacted {
		t.Errorf("log x-api-key: got %q, want %q", got, log.Redacted)
	}
	span := f.span(t)
	v, _ := attrOf(span.Attributes, "http.request.header.x-tenant")
	if got := v.AsStringSlice(); len(got) != 8 || got[1] != "b\uFFFDc" || got[7] != "i" {
		t.Errorf("span x-tenant: got %q, want the first 8 values, sanitised", got)
	}
	v, _ = attrOf(span.Attributes, "http.request.header.x-api-key")
	if got := v.AsStringSlice(); len(got) != 2 || got[0] != log.Redacted || got[1] != log.Redacted {
		t.Errorf("span x-api-key: got %q, want two [REDACTED]", got)
	}
}
