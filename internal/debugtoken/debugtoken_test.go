package debugtoken

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

var (
	now    = time.Unix(1_790_000_000, 0)
	opsKey = Key{ID: "ops", Secret: []byte("0123456789abcdef0123456789abcdef")}
	oldKey = Key{ID: "ops-2025", Secret: []byte("fedcba9876543210fedcba9876543210")}
)

func mint(t *testing.T, k Key, exp time.Time, route, service string) string {
	t.Helper()
	tok, err := Mint(k, exp, route, service)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestVerifyTokens(t *testing.T) {
	v := NewVerifier([]Key{opsKey, oldKey}, "checkout", 0)
	valid := mint(t, opsKey, now.Add(10*time.Minute), "GET /orders/{id}", "checkout")
	// A token whose route was changed after signing.
	c, _, _, _ := parse(valid)
	tampered := strings.Replace(valid, "."+b64.EncodeToString([]byte(c.Route))+".", "."+b64.EncodeToString([]byte("GET /admin"))+".", 1)
	swap := byte('A')
	if valid[len(valid)-2] == 'A' {
		swap = 'B'
	}
	flipped := valid[:len(valid)-2] + string(swap) + valid[len(valid)-1:]
	wrongSecret := mint(t, Key{ID: "ops", Secret: []byte("not-the-right-secret-at-all!")}, now.Add(time.Minute), "", "")

	tests := []struct {
		name string
		tok  string
		want Reason
	}{
		{"valid, scoped", valid, Accepted},
		{"valid, unscoped, older key", mint(t, oldKey, now.Add(time.Hour), "", ""), Accepted},
		{"valid, this service", mint(t, opsKey, now.Add(time.Minute), "", "checkout"), Accepted},
		{"expired", mint(t, opsKey, now.Add(-time.Second), "", ""), Expired},
		{"expires now", mint(t, opsKey, now, "", ""), Expired},
		{"longer than the maximum TTL", mint(t, opsKey, now.Add(time.Hour+time.Minute), "", ""), TTLTooLong},
		{"other service", mint(t, opsKey, now.Add(time.Minute), "", "payments"), WrongScope},
		{"route changed after signing", tampered, Forged},
		{"MAC changed", flipped, Forged},
		{"signed with another secret", wrongSecret, Forged},
		{"unknown key", mint(t, Key{ID: "dev", Secret: opsKey.Secret}, now.Add(time.Minute), "", ""), Forged},
		{"empty", "", Malformed},
		{"garbage", "hello", Malformed},
		{"other version", strings.Replace(valid, "gbd1.", "gbd2.", 1), Malformed},
		{"missing part", valid[:strings.LastIndexByte(valid, '.')], Malformed},
		{"extra part", valid + ".x", Malformed},
		{"too long", valid + strings.Repeat("A", MaxTokenLen), Malformed},
		{"expiry not a number", strings.Replace(valid, ".ops.", ".ops.", 1)[:9] + "x" + valid[10:], Malformed},
		{"MAC not base64", valid[:len(valid)-3] + "!!!", Malformed},
		{"MAC cut", valid[:len(valid)-4], Malformed},
		{"newline inside", strings.Replace(valid, "ops", "o\nps", 1), Malformed},
		{"control character in the route", "gbd1.ops.1790000100." + b64.EncodeToString([]byte("GET /\x1b[31m")) + ".." + strings.Repeat("A", 43), Malformed},
	}
	counts := map[Reason]uint64{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, got := v.Verify(tt.tok, now)
			if got != tt.want {
				t.Fatalf("Verify: got %v, want %v", got, tt.want)
			}
			if got == Accepted {
				if c.Grant() == nil || c.KeyID == "" || !c.Expiry.After(now) {
					t.Errorf("accepted claims: %+v", c)
				}
			} else if c.KeyID != "" || c.Grant() != nil {
				t.Errorf("refused token yields claims %+v", c)
			}
			if got != Accepted {
				counts[got]++
			}
		})
	}
	tokens, _ := v.Counts()
	for r, n := range counts {
		if tokens[r] != n {
			t.Errorf("count of %v: got %d, want %d", r, tokens[r], n)
		}
	}
	if tokens[Accepted] != 0 {
		t.Errorf("Verify counted %d accepted; the caller counts them once the route is checked", tokens[Accepted])
	}
	v.Count(Accepted)
	if tokens, _ = v.Counts(); tokens[Accepted] != 1 {
		t.Errorf("Count(Accepted): %d", tokens[Accepted])
	}
}

func TestClaimsRoundTrip(t *testing.T) {
	v := NewVerifier([]Key{opsKey}, "", 30*time.Minute)
	exp := now.Add(20*time.Minute + 500*time.Millisecond)
	c, r := v.Verify(mint(t, opsKey, exp, "/shop.Checkout/Pay", ""), now)
	if r != Accepted || c.KeyID != "ops" || c.Route != "/shop.Checkout/Pay" || c.Service != "" || !c.Expiry.Equal(exp.Truncate(time.Second)) {
		t.Errorf("got %+v, %v", c, r)
	}
	if _, r := v.Verify(mint(t, opsKey, now.Add(31*time.Minute), "", ""), now); r != TTLTooLong {
		t.Errorf("over a 30m maximum: got %v", r)
	}
	if _, r := v.Verify(mint(t, opsKey, now.Add(time.Minute), "", "checkout"), now); r != WrongScope {
		t.Errorf("service-scoped token on a verifier without a service: got %v, want wrong_scope", r)
	}
}

func TestMintRefuses(t *testing.T) {
	exp := now.Add(time.Minute)
	for name, f := range map[string]func() (string, error){
		"bad key ID":           func() (string, error) { return Mint(Key{ID: "a b", Secret: opsKey.Secret}, exp, "", "") },
		"short secret":         func() (string, error) { return Mint(Key{ID: "a", Secret: []byte("short")}, exp, "", "") },
		"control char route":   func() (string, error) { return Mint(opsKey, exp, "GET /\n", "") },
		"route too long":       func() (string, error) { return Mint(opsKey, exp, strings.Repeat("r", 600), "") },
		"service invalid utf8": func() (string, error) { return Mint(opsKey, exp, "", "\xff") },
		"zero expiry":          func() (string, error) { return Mint(opsKey, time.Time{}, "", "") },
	} {
		if tok, err := f(); err == nil {
			t.Errorf("%s: minted %q", name, tok)
		}
	}
}

func TestParseKeys(t *testing.T) {
	secret := base64.StdEncoding.EncodeToString(opsKey.Secret)
	keys, err := ParseKeys(" ops:" + secret + " , ops-2025:" + base64.RawURLEncoding.EncodeToString(oldKey.Secret) + ",")
	if err != nil || len(keys) != 2 || keys[0].ID != "ops" || string(keys[1].Secret) != string(oldKey.Secret) {
		t.Fatalf("got %v, %v", keys, err)
	}
	if keys, err := ParseKeys(""); err != nil || keys != nil {
		t.Errorf("empty: got %v, %v", keys, err)
	}
	for _, bad := range []string{
		"ops",                    // no secret
		"ops:",                   // empty secret
		":" + secret,             // no ID
		"o ps:" + secret,         // bad ID
		"ops:c2hvcnQ=",           // 5 bytes
		"ops:%%%notbase64secret", // not base64
		"ops:" + secret + ",ops:" + secret,
	} {
		_, err := ParseKeys(bad)
		if err == nil {
			t.Errorf("%q: no error", bad)
			continue
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "%%%") {
			t.Errorf("%q: the error shows the secret: %v", bad, err)
		}
	}
}

func TestGrant(t *testing.T) {
	v := NewVerifier([]Key{opsKey}, "ledger", 0)
	trace := [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	other := [16]byte{16, 15}
	c, _ := NewVerifier([]Key{opsKey}, "", 0).Verify(mint(t, opsKey, now.Add(5*time.Minute), "GET /x", ""), now)
	g := c.Grant()
	val := g.StateValue(trace)
	if len(val) > 128 || strings.ContainsAny(val, ",= ") {
		t.Errorf("state value %q: not a tracestate value", val)
	}
	got, r := v.VerifyGrant(val, trace, now)
	if r != Accepted || !got.Propagated || got.KeyID != "ops" || !got.Expiry.Equal(g.Expiry) {
		t.Fatalf("got %+v, %v", got, r)
	}
	// It passes on again, unchanged, within the same trace.
	if again := got.StateValue(trace); again != val {
		t.Errorf("re-propagated: got %q, want %q", again, val)
	}
	for name, tc := range map[string]struct {
		val   string
		trace [16]byte
		at    time.Time
		want  Reason
	}{
		"other trace":    {val, other, now, Forged},
		"no trace":       {val, [16]byte{}, now, Malformed},
		"expired":        {val, trace, now.Add(5 * time.Minute), Expired},
		"expiry changed": {strings.Replace(val, ".17900", ".17901", 1), trace, now, Forged},
		"unknown key":    {(&Grant{KeyID: "dev", Expiry: g.Expiry, secret: opsKey.Secret}).StateValue(trace), trace, now, Forged},
		"garbage":        {"d1.ops", trace, now, Malformed},
		"other version":  {"d2" + val[2:], trace, now, Malformed},
		"too far ahead":  {(&Grant{KeyID: "ops", Expiry: now.Add(2 * time.Hour), secret: opsKey.Secret}).StateValue(trace), trace, now, TTLTooLong},
	} {
		if _, r := v.VerifyGrant(tc.val, tc.trace, tc.at); r != tc.want {
			t.Errorf("%s: got %v, want %v", name, r, tc.want)
		}
	}
	_, grants := v.Counts()
	if grants[Accepted] != 1 || grants[Forged] != 3 || grants[Malformed] != 3 {
		t.Errorf("grant counts: %v", grants)
	}
}

func FuzzVerify(f *testing.F) {
	v := NewVerifier([]Key{opsKey}, "checkout", 0)
	tok, _ := Mint(opsKey, now.Add(time.Minute), "GET /orders/{id}", "checkout")
	f.Add(tok)
	f.Add("gbd1.ops.1.a.b.c")
	f.Add("d1.ops.1790000100.AAAA")
	f.Fuzz(func(t *testing.T, s string) {
		c, r := v.Verify(s, now)
		if r == Accepted && s != tok {
			t.Errorf("accepted a token never minted: %q (%+v)", s, c)
		}
		if _, r := v.VerifyGrant(s, [16]byte{1}, now); r == Accepted {
			t.Errorf("accepted a grant never made: %q", s)
		}
	})
}
