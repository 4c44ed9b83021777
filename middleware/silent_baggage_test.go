package middleware_test

import (
	"bytes"
	"os/exec"
	"strconv"
	"testing"

	"github.com/glassbox-obs/glassbox/internal/testutil"
)

// A caller cannot make a service write on stderr: baggage that is
// invalid or beyond the W3C limits is dropped before the propagator reads
// it, so OpenTelemetry's baggage propagator never reports it to the
// global error handler (whose default prints on stderr). Each kind of bad
// baggage is sent to a fresh process, trusted endpoint and public one,
// since OpenTelemetry reports only the first failure of a process. Found
// with FuzzHTTPInbound.
func TestBadBaggageLeavesStderrSilent(t *testing.T) {
	t.Parallel()
	bin := testutil.BuildProgram(t, map[string]string{"main.go": `package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/glassbox-obs/glassbox/middleware"
)

func main() {
	opts := []middleware.Option{middleware.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}
	if os.Args[2] == "public" {
		opts = append(opts, middleware.WithPublicEndpoint())
	}
	h := middleware.HTTP(opts...)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	req.Header.Set("Baggage", os.Args[1])
	h.ServeHTTP(httptest.NewRecorder(), req)
}
`})
	many := "k0=v"
	for i := range 64 {
		many += ",k" + strconv.Itoa(i+1) + "=v"
	}
	long := "k=" + string(bytes.Repeat([]byte("v"), 8191))
	for _, bag := range []string{"=,,", "bad key=1", many, long} {
		for _, endpoint := range []string{"trusted", "public"} {
			var stderr bytes.Buffer
			cmd := exec.Command(bin, bag, endpoint)
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("baggage %.20q, %s endpoint: %v\nstderr: %s", bag, endpoint, err, stderr.Bytes())
			}
			if stderr.Len() > 0 {
				t.Errorf("baggage %.20q, %s endpoint: stderr %q, want nothing", bag, endpoint, stderr.Bytes())
			}
		}
	}
}
