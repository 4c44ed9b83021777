package log

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/glassbox-obs/glassbox/internal/textsafe"
)

func TestRedactQuery(t *testing.T) {
	r := NewRedactor()
	tests := []struct {
		name, query, want string
	}{
		{"nothing to redact", "a=1&b=2", "a=1&b=2"},
		{"one value", "token=abc", "token=[REDACTED]"},
		{"several, order kept", "a=1&password=p&b=2&api_key=k", "a=1&password=[REDACTED]&b=2&api_key=[REDACTED]"},
		{"empty pairs kept", "&&token=abc&", "&&token=[REDACTED]&"},
		{"escaped key", "%74oken=abc&x=%20", "%74oken=[REDACTED]&x=%20"},
		{"plus in key", "api+key=k", "api+key=[REDACTED]"},
		{"key without value", "token&a=1", "token&a=1"},
		{"empty value", "token=&a=1", "token=[REDACTED]&a=1"},
		{"value with '='", "secret=a=b=c", "secret=[REDACTED]"},
		{"control characters sanitised", "q=a\x1bb&token=x", "q=a\uFFFDb&token=[REDACTED]"},
		{"nested key", "user[password]=s1&user[name]=bob", "user[password]=[REDACTED]&user[name]=bob"},
		{"escaped nested key", "user%5Bpassword%5D=s1&a=1", "user%5Bpassword%5D=[REDACTED]&a=1"},
		{"deeply nested key", "a%5Bb%5D%5Bapi_key%5D=k", "a%5Bb%5D%5Bapi_key%5D=[REDACTED]"},
		{"array key", "token[]=a&token[]=b", "token[]=[REDACTED]&token[]=[REDACTED]"},
		{"bad escape matched raw", "%zz_token=t&b=%zz", "%zz_token=[REDACTED]&b=%zz"},
		{"AWS SigV2", "AWSAccessKeyId=AKIA&Expires=1&Signature=abc", "AWSAccessKeyId=[REDACTED]&Expires=1&Signature=[REDACTED]"},
		{"AWS SigV4", "X-Amz-Credential=AKIA%2F1&X-Amz-Signature=abc&X-Amz-Security-Token=tok&X-Amz-Date=1",
			"X-Amz-Credential=[REDACTED]&X-Amz-Signature=[REDACTED]&X-Amz-Security-Token=[REDACTED]&X-Amz-Date=1"},
		{"GCS V4", "x-goog-signature=abc&X-Goog-Credential=sa%40p&X-Goog-Date=1", "x-goog-signature=[REDACTED]&X-Goog-Credential=[REDACTED]&X-Goog-Date=1"},
		{"GCS V2", "GoogleAccessId=sa%40p&Expires=1&Signature=abc", "GoogleAccessId=[REDACTED]&Expires=1&Signature=[REDACTED]"},
		{"Azure SAS", "sv=2020&sp=r&sig=abc%3D&skoid=x", "sv=2020&sp=r&sig=[REDACTED]&skoid=x"},
		{"presigned keys nested", "upload[X-Amz-Signature]=abc", "upload[X-Amz-Signature]=[REDACTED]"},
		{"presigned keys match whole", "signature_version=2&sigma=1&design=x", "signature_version=2&sigma=1&design=x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.RedactQuery(tt.query, 1024); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("presigned keys without the default list", func(t *testing.T) {
		if got, want := NewRedactorOnly().RedactQuery("sig=a&token=b", 1024), "sig=[REDACTED]&token=b"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("nil redactor", func(t *testing.T) {
		var nr *Redactor
		if got, want := nr.RedactQuery("sig=a&token=b\n", 1024), "sig=a&token=b\uFFFD"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("cut after redaction", func(t *testing.T) {
		q := "token=" + strings.Repeat("s", 5000) + "&password=p&" + strings.Repeat("a", 5000)
		got := r.RedactQuery(q, 64)
		if !strings.HasPrefix(got, "token=[REDACTED]&password=[REDACTED]&aaa") || len(got) > 64 || !strings.HasSuffix(got, "...") {
			t.Errorf("got %q, want both values redacted, then cut to 64 bytes", got)
		}
	})
}

func TestRedactURL(t *testing.T) {
	r := NewRedactor()
	tests := []struct {
		name, url, want string
	}{
		{"plain", "https://app.example/p?a=1", "https://app.example/p?a=1"},
		{"user info", "https://bob:hunter2@app.example/p", "https://app.example/p"},
		{"user info, @ in password", "https://bob:p@ss@app.example:8443/p?x=1", "https://app.example:8443/p?x=1"},
		{"user info without path", "https://bob:hunter2@app.example", "https://app.example"},
		{"scheme-relative", "//bob:pw@cdn.example/a.js?sig=abc", "//cdn.example/a.js?sig=[REDACTED]"},
		{"backslash ends the authority", `https://bob:pw@app.example\p`, `https://app.example\p`},
		{"@ in the path is kept", "https://app.example/users/@me?a=1", "https://app.example/users/@me?a=1"},
		{"fragment dropped", "https://app/cb#access_token=SECRET&state=1", "https://app/cb"},
		{"query and fragment", "https://app/cb?code=1&access_token=SECRET#frag", "https://app/cb?code=1&access_token=[REDACTED]"},
		{"? inside the fragment", "https://app/cb#x?token=SECRET", "https://app/cb"},
		{"reference", "/cb?token=SECRET&page=2", "/cb?token=[REDACTED]&page=2"},
		{"empty query kept", "https://app/p?", "https://app/p?"},
		{"presigned S3", "https://b.s3.amazonaws.com/k?X-Amz-Credential=AK&X-Amz-Signature=S&X-Amz-Expires=60",
			"https://b.s3.amazonaws.com/k?X-Amz-Credential=[REDACTED]&X-Amz-Signature=[REDACTED]&X-Amz-Expires=60"},
		{"Origin null", "null", "null"},
		{"not a URL", "mailto:a@b.example?subject=hi", "mailto:a@b.example?subject=hi"},
		{"hostile bytes sanitised", "https://app/\u2028p?q=\x1b[2J", "https://app/\uFFFDp?q=\uFFFD[2J"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.RedactURL(tt.url, 2048); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	var nr *Redactor
	if got, want := nr.RedactURL("https://u:p@h/p?token=t#f", 2048), "https://h/p?token=t"; got != want {
		t.Errorf("nil redactor: got %q, want %q", got, want)
	}
}

func TestRedactHeader(t *testing.T) {
	r := NewRedactor("x-tenant-secret")
	tests := []struct {
		name, value, want string
	}{
		{"Referer", "https://u:p@app/cb?sig=S#f", "https://app/cb?sig=[REDACTED]"},
		{"referer", "https://app/cb?token=S", "https://app/cb?token=[REDACTED]"},
		{"Origin", "https://u:p@app.example", "https://app.example"},
		{"Location", "/next?password=S", "/next?password=[REDACTED]"},
		{"Content-Location", "/doc?sig=S", "/doc?sig=[REDACTED]"},
		{"Authorization", "Bearer S", Redacted},
		{"X-Tenant-Secret", "S", Redacted},
		{"User-Agent", "curl/8\r\nX: 1", "curl/8\uFFFD\uFFFDX: 1"},
		{"X-Note", "https://a/?token=kept-not-a-url-header", "https://a/?token=kept-not-a-url-header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.RedactHeader(tt.name, tt.value, 1024); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// FuzzRedactURL: for any URL, the result is safe to record (valid UTF-8,
// no unsafe rune, at most max bytes), has no fragment and no user info,
// and its query is the input's with exactly the values of matching keys
// replaced, as an independent reading of the pairs says.
func FuzzRedactURL(f *testing.F) {
	for _, s := range []string{"https://u:p@h.example/p?token=t&a=1#f", "/p?user%5Bpassword%5D=x&sig=y", "//h?X-Amz-Signature=1&&=&a",
		"https://h/p#?token=t", "mailto:a@b?c=d", "https://h/\x00?%zz=1&api+key=2"} {
		f.Add(s, 2048)
	}
	r := NewRedactor()
	f.Fuzz(func(t *testing.T, in string, max int) {
		max = 4 + abs(max)%4096
		got := r.RedactURL(in, max)
		if len(got) > max || !utf8.ValidString(got) {
			t.Fatalf("RedactURL(%q, %d) = %q: longer than max or invalid UTF-8", in, max, got)
		}
		for _, c := range got {
			if textsafe.UnsafeRune(c) {
				t.Fatalf("RedactURL(%q) = %q: unsafe rune %U", in, got, c)
			}
		}
		full := r.redactURL(in)
		if strings.Contains(full, "#") {
			t.Fatalf("redactURL(%q) = %q: fragment kept", in, full)
		}
		base, q, hasQ := strings.Cut(full, "?")
		if i := strings.Index(base, "://"); i >= 0 {
			auth := base[i+3:]
			if j := strings.IndexAny(auth, `/\`); j >= 0 {
				auth = auth[:j]
			}
			if strings.Contains(auth, "@") {
				t.Fatalf("redactURL(%q) = %q: user info kept", in, full)
			}
		}
		inNoFrag, _, _ := strings.Cut(in, "#")
		_, inQ, inHasQ := strings.Cut(inNoFrag, "?")
		if hasQ != inHasQ {
			t.Fatalf("redactURL(%q) = %q: query presence changed", in, full)
		}
		if want := referenceRedactQuery(r, inQ); hasQ && q != want {
			t.Fatalf("redactURL(%q) query = %q, want %q", in, q, want)
		}
	})
}

// referenceRedactQuery redacts q pair by pair with an independent reading
// of the key: unescaped as url.ParseQuery would, then the whole key and
// each of its bracketed parts looked up.
func referenceRedactQuery(r *Redactor, q string) string {
	presigned := map[string]bool{"sig": true, "signature": true, "awsaccesskeyid": true, "googleaccessid": true,
		"x-amz-signature": true, "x-amz-credential": true, "x-amz-security-token": true,
		"x-goog-signature": true, "x-goog-credential": true}
	pairs := strings.Split(q, "&")
	for i, p := range pairs {
		k, _, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		key := k
		if u, err := url.QueryUnescape(k); err == nil {
			key = u
		}
		parts := append([]string{key}, strings.FieldsFunc(key, func(c rune) bool { return c == '[' || c == ']' })...)
		for _, part := range parts {
			if r.Match(part) || presigned[strings.ToLower(part)] {
				pairs[i] = k + "=" + Redacted
				break
			}
		}
	}
	return strings.Join(pairs, "&")
}

func abs(i int) int {
	if i < 0 {
		if i == -i { // math.MinInt
			return 0
		}
		return -i
	}
	return i
}
