package main

import (
	"strings"
	"testing"
	"time"

	"github.com/glassbox-obs/glassbox/internal/debugtoken"
)

const (
	opsSecret  = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // "0123456789abcdef0123456789abcdef"
	prevSecret = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="
)

func TestDebugTokenMintsAVerifiableToken(t *testing.T) {
	vars := map[string]string{"GLASSBOX_DEBUG_KEYS": "ops:" + opsSecret + ",ops-2025:" + prevSecret}
	code, out, errOut := runCLI(t, vars, "", "debug-token", "--key-id", "ops", "--ttl", "10m", "--route", "GET /orders/{id}", "--service", "checkout")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	tok := strings.TrimSuffix(out, "\n")
	if strings.Contains(tok, "\n") || tok == "" {
		t.Fatalf("stdout: %q, want the token alone", out)
	}
	if !strings.Contains(errOut, "X-Glassbox-Debug") || !strings.Contains(errOut, `route "GET /orders/{id}"`) {
		t.Errorf("stderr: %q, want the header and the scope", errOut)
	}
	keys, _ := debugtoken.ParseKeys(vars["GLASSBOX_DEBUG_KEYS"])
	c, r := debugtoken.NewVerifier(keys, "checkout", 0).Verify(tok, time.Now())
	if r != debugtoken.Accepted || c.KeyID != "ops" || c.Route != "GET /orders/{id}" || c.Service != "checkout" {
		t.Fatalf("verify: %v %+v", r, c)
	}
	if left := time.Until(c.Expiry); left < 9*time.Minute || left > 10*time.Minute {
		t.Errorf("expires in %v, want 10m", left)
	}
	// The other key signs when named, and the one key needs no name.
	_, out, _ = runCLI(t, vars, "", "debug-token", "--key-id", "ops-2025", "--ttl", "1m")
	if c, r := debugtoken.NewVerifier(keys, "", 0).Verify(strings.TrimSpace(out), time.Now()); r != debugtoken.Accepted || c.KeyID != "ops-2025" {
		t.Errorf("ops-2025: %v %+v", r, c)
	}
	code, out, _ = runCLI(t, map[string]string{"GLASSBOX_DEBUG_KEYS": "ops:" + opsSecret}, "", "debug-token")
	if _, r := debugtoken.NewVerifier(keys, "", 0).Verify(strings.TrimSpace(out), time.Now()); code != exitOK || r != debugtoken.Accepted {
		t.Errorf("single key, defaults: exit %d, %v", code, r)
	}
}

func TestDebugTokenRefuses(t *testing.T) {
	keys := map[string]string{"GLASSBOX_DEBUG_KEYS": "ops:" + opsSecret + ",ops-2025:" + prevSecret}
	for _, tc := range []struct {
		name string
		vars map[string]string
		args []string
		want string
	}{
		{"no keys", nil, []string{"--key-id", "ops"}, "GLASSBOX_DEBUG_KEYS is not set"},
		{"bad keys", map[string]string{"GLASSBOX_DEBUG_KEYS": "ops:c2hvcnQ="}, nil, "at least 16"},
		{"unknown key", keys, []string{"--key-id", "dev"}, `no key "dev"`},
		{"which key", keys, nil, "choose one with --key-id"},
		{"over the maximum", keys, []string{"--key-id", "ops", "--ttl", "2h"}, "longer than the maximum, 1h0m0s"},
		{"over a lowered maximum", keys, []string{"--key-id", "ops", "--ttl", "20m", "--max-ttl", "15m"}, "longer than the maximum, 15m0s"},
		{"maximum raised", keys, []string{"--key-id", "ops", "--max-ttl", "24h"}, "at most 1h0m0s"},
		{"negative TTL", keys, []string{"--key-id", "ops", "--ttl", "-1m"}, "positive"},
		{"control characters in the route", keys, []string{"--key-id", "ops", "--route", "GET /\x1b[31m"}, "invalid route"},
		{"argument", keys, []string{"--key-id", "ops", "extra"}, "unexpected argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.vars, "", append([]string{"debug-token"}, tc.args...)...)
			if code != exitUsage || out != "" || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d, nothing, %q", code, out, errOut, exitUsage, tc.want)
			}
			if strings.Contains(errOut, "c2hvcnQ") || strings.Contains(errOut, opsSecret) {
				t.Error("a secret is in the message")
			}
		})
	}
}

func TestDebugTokenHelp(t *testing.T) {
	code, out, _ := runCLI(t, nil, "", "help", "debug-token")
	for _, want := range []string{"usage: glassbox debug-token", "Security model", "-ttl", "-max-ttl", "-route", "Examples", "rotate"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
	if code != exitOK {
		t.Errorf("exit %d", code)
	}
	if _, _, errOut := runCLI(t, nil, ""); !strings.Contains(errOut, "debug-token") {
		t.Errorf("the command list lacks debug-token:\n%s", errOut)
	}
}
