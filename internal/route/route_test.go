package route

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestFromPattern routes real requests through a ServeMux and checks the
// route of the pattern it matched, for every form a pattern takes.
func TestFromPattern(t *testing.T) {
	tests := []struct {
		pattern, method, target, want string
	}{
		{"GET /users/{id}", "GET", "/users/7", "/users/{id}"},
		{"/static/", "GET", "/static/app.css", "/static/"},
		{"/", "POST", "/anything", "/"},
		{"POST example.com/orders/{id}/items/{rest...}", "POST", "http://example.com/orders/1/items/a/b", "/orders/{id}/items/{rest...}"},
		{"api.example.com/v1/{$}", "GET", "http://api.example.com/v1/", "/v1/{$}"},
		{"DELETE\t /tabs/{id}", "DELETE", "/tabs/3", "/tabs/{id}"},
		{"PUT  \t example.com/spaced", "PUT", "http://example.com/spaced", "/spaced"},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			var got string
			mux := http.NewServeMux()
			mux.HandleFunc(tt.pattern, func(_ http.ResponseWriter, r *http.Request) { got = FromPattern(r.Pattern) })
			mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(tt.method, tt.target, nil))
			if got != tt.want {
				t.Errorf("FromPattern(%q) = %q, want %q", tt.pattern, got, tt.want)
			}
		})
	}
}

// TestFromPatternNotAPattern: values ServeMux never sets still give a
// string without the method, and never panic.
func TestFromPatternNotAPattern(t *testing.T) {
	for in, want := range map[string]string{
		"":          "",
		" ":         "",
		"GET":       "GET",
		"GET ":      "",
		"host-only": "host-only",
		"x/":        "/",
	} {
		if got := FromPattern(in); got != want {
			t.Errorf("FromPattern(%q) = %q, want %q", in, got, want)
		}
	}
}
