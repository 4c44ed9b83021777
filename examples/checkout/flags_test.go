package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckoutDefault runs the example as the README's demo command does,
// with no backend configured: the terminal shows one short line per
// request (never a JSON document), every seeded failure happens once, the
// three services write their two files each, and nothing claims to have
// been shipped elsewhere.
func TestCheckoutDefault(t *testing.T) {
	c := runCheckout(t, nil)
	documents(t, c.dir)
	for _, line := range strings.Split(c.out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "{") {
			t.Errorf("raw JSON on the terminal: %s", line)
		}
	}
	got := map[int]int{}
	for _, r := range c.rows {
		got[r.status]++
	}
	if want := map[int]int{200: 6, 400: 1, 502: 2, 504: 1}; !maps.Equal(got, want) {
		t.Errorf("statuses %v, want %v:\n%s", got, want, c.out)
	}
	var files []string
	for _, svc := range []string{"frontend", "payments", "ledger"} {
		files = append(files, "logs-"+svc+"-default.ndjson", "traces-"+svc+"-default.ndjson")
	}
	for _, f := range files {
		if st, err := os.Stat(filepath.Join(c.dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v, want the service's documents", f, err)
		}
	}
	if !strings.Contains(c.out, "10 requests in ") || !strings.Contains(c.out, "6 ok, 1 rejected (4xx), 3 failed.") {
		t.Errorf("no summary line:\n%s", c.out)
	}
	if strings.Contains(c.out, "Sentry") || strings.Contains(c.out, "Elasticsearch") || strings.Contains(c.out, "OTLP") {
		t.Errorf("claims a backend with none configured:\n%s", c.out)
	}
}

// TestRequestsFlag: --requests n sends n requests and stops.
func TestRequestsFlag(t *testing.T) {
	c := runCheckout(t, nil, "--requests", "3")
	if len(c.rows) != 3 || c.rows[2].status != 502 {
		t.Errorf("rows %+v, want 3 requests, the third the seeded panic", c.rows)
	}
	if len(c.commands) != 1 {
		t.Errorf("%d trace commands, want 1 (the panic)", len(c.commands))
	}
}

// TestDurationFlag: --duration keeps sending past --requests until the
// time is up, then stops by itself.
func TestDurationFlag(t *testing.T) {
	c := runCheckout(t, nil, "--requests", "1", "--duration", "1s")
	if len(c.rows) < 2 {
		t.Errorf("%d requests in 1s with --requests 1, want --duration to keep sending", len(c.rows))
	}
}

// TestUsage: bad flags are a usage error (exit status 2) before anything
// starts; -h prints the usage and is not an error.
func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"--requests", "-1"}, {"--interval", "soon"}, {"extra"}, {"--nope"}} {
		var out, errb bytes.Buffer
		err := run(context.Background(), args, &out, &errb)
		if !errors.As(err, new(usageError)) || out.Len() != 0 || errb.Len() == 0 {
			t.Errorf("%q: error %v, stdout %q, stderr %q; want a usage error said on stderr", args, err, out.String(), errb.String())
		}
	}
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"-h"}, &out, &errb); !errors.Is(err, flag.ErrHelp) || !strings.Contains(errb.String(), "--duration") && !strings.Contains(errb.String(), "-duration") {
		t.Errorf("-h: %v, %q; want the usage", err, errb.String())
	}
}
