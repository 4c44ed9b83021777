package credential_test

import (
	"encoding/base64"
	"slices"
	"testing"

	"github.com/glassbox-obs/glassbox/internal/credential"
	"github.com/glassbox-obs/glassbox/log"
)

func TestValues(t *testing.T) {
	basic := base64.StdEncoding.EncodeToString([]byte("ann:Basic-pw-9"))
	tests := []struct {
		name   string
		header map[string][]string
		query  string
		want   []string
	}{
		{"bearer", map[string][]string{"Authorization": {"Bearer tok-123456"}}, "",
			[]string{"Bearer tok-123456", "tok-123456"}},
		{"basic: the value, the encoded and decoded credentials, the password",
			map[string][]string{"Authorization": {"Basic " + basic}}, "",
			[]string{"Basic " + basic, basic, "ann:Basic-pw-9", "Basic-pw-9"}},
		{"cookies, quoted or not; short values left alone",
			map[string][]string{"Cookie": {`session=sess-abcdef; theme=dark; q="quoted-val"`}}, "",
			[]string{`session=sess-abcdef; theme=dark; q="quoted-val"`, `"quoted-val"`, "sess-abcdef", "quoted-val"}},
		{"gRPC metadata keys are lowercase", map[string][]string{"authorization": {"Bearer md-token-1"}, "x-api-key": {"apikey-value-1"}}, "",
			[]string{"Bearer md-token-1", "apikey-value-1", "md-token-1"}},
		{"the debug token whatever the list", map[string][]string{"X-Glassbox-Debug": {"gbd1.ops.x.y"}}, "",
			[]string{"gbd1.ops.x.y"}},
		{"headers off the list are not credentials", map[string][]string{"User-Agent": {"curl/8.0.0-long"}, "Accept": {"application/json"}}, "", nil},
		{"query: raw and unescaped; nested keys; presigned signatures; other keys kept",
			nil, "user=annabelle&api_key=key%2Fwith%2Fslash&user[password]=nested-pw-1&X-Amz-Signature=abcdef0123&page=12345678",
			[]string{"key%2Fwith%2Fslash", "key/with/slash", "nested-pw-1", "abcdef0123"}},
		{"URL headers: query values and the user-info password",
			map[string][]string{"Referer": {"https://bob:referer-pw-1@app.example/p?token=referer-tok-1&x=visible-value#frag"}}, "",
			[]string{"referer-tok-1", "referer-pw-1"}},
		{"repeats once", map[string][]string{"Authorization": {"tok-same-value"}, "X-Api-Key": {"tok-same-value"}}, "api_key=tok-same-value",
			[]string{"tok-same-value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := credential.Values(log.NewRedactor(), tt.header, tt.query)
			want := slices.Clone(tt.want)
			slices.SortFunc(want, func(a, b string) int {
				if len(a) != len(b) {
					return len(b) - len(a)
				}
				if a < b {
					return -1
				}
				return 1
			})
			if !slices.Equal(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

func TestValuesNilRedactor(t *testing.T) {
	got := credential.Values(nil, map[string][]string{"Authorization": {"Bearer tok-123456"}, "X-Glassbox-Debug": {"gbd1.ops.x.y"}}, "api_key=abcdefghij")
	if !slices.Equal(got, []string{"gbd1.ops.x.y"}) {
		t.Errorf("got %q, want only the debug token", got)
	}
}

func TestScrub(t *testing.T) {
	vals := credential.Values(log.NewRedactor(), map[string][]string{"Authorization": {"Bearer tok-123456"}}, "")
	tests := []struct{ in, want string }{
		{"bad header \"Bearer tok-123456\"", `bad header "[REDACTED]"`},
		{"token tok-123456 twice tok-123456", "token [REDACTED] twice [REDACTED]"},
		{"nothing here", "nothing here"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := credential.Scrub(tt.in, vals); got != tt.want {
			t.Errorf("Scrub(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
