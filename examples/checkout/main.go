// Command checkout is glassbox's demo: a small shop of three services, each
// a real server on loopback with its own glassbox.Start and service.name —
// frontend (HTTP) calls payments (gRPC), which books the charge in ledger
// (HTTP) — and a traffic generator that sends them normal orders and four
// seeded failures: a panic in payments, a 500 from ledger that payments
// turns into gRPC Internal, a ledger so slow that the payment deadline
// passes, and an order with bad input (a 4xx, which is not an error).
//
//	go run ./examples/checkout
//
// It needs no backend: the three services write their log documents and
// spans to one directory through exporter/file (a new temporary directory,
// or --dir). The terminal shows one line per request (method, path,
// status, duration, the X-Correlation-ID response header) and, at the end,
// for each failed request the command that tells its story:
//
//	go run ./cmd/glassbox trace --dir /tmp/glassbox-checkout-123 <correlation ID>
//
// With ELASTICSEARCH_URL, OTEL_EXPORTER_OTLP_ENDPOINT or SENTRY_DSN set,
// the services ship there too (glassbox.Start reads them), and the summary
// says how many documents Elasticsearch and the OTLP endpoint took. It
// stops after --requests requests (10 by default: each seeded failure
// once), or keeps sending for --duration.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case errors.As(err, new(usageError)):
		os.Exit(2) // the flag package said what was wrong
	case err != nil:
		fmt.Fprintln(os.Stderr, "checkout:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	dir      string
	requests int
	duration time.Duration
	interval time.Duration
}

// usageError is a flag the command cannot use; the flag package has
// already printed why.
type usageError struct{ error }

func parseFlags(args []string, stderr io.Writer) (options, error) {
	o := options{}
	fs := flag.NewFlagSet("checkout", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.dir, "dir", "", "write the services' documents to `directory` (default: a new temporary directory, kept after the run)")
	fs.IntVar(&o.requests, "requests", len(schedule()), "send `n` requests, then stop (the default sends each seeded failure once)")
	fs.DurationVar(&o.duration, "duration", 0, "keep sending for this long instead of stopping after --requests (`1m`, 10m)")
	fs.DurationVar(&o.interval, "interval", 50*time.Millisecond, "pause between two requests")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: go run ./examples/checkout [flags]\n\n"+
			"Starts frontend (HTTP) -> payments (gRPC) -> ledger (HTTP), sends them orders and seeded\n"+
			"failures, and prints for each failed request the glassbox trace command that tells its story.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, usageError{err}
	}
	switch {
	case fs.NArg() > 0:
		err := fmt.Errorf("unexpected argument %q", fs.Arg(0))
		fmt.Fprintln(stderr, err)
		fs.Usage()
		return o, usageError{err}
	case o.requests < 0 || o.duration < 0 || o.interval < 0:
		err := errors.New("--requests, --duration and --interval cannot be negative")
		fmt.Fprintln(stderr, err)
		return o, usageError{err}
	}
	return o, nil
}

// run starts the shop, sends the traffic, stops the shop (which writes out
// every document) and prints the summary. ctx ending stops the traffic
// early; the shop is still stopped properly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if o.dir == "" {
		if o.dir, err = os.MkdirTemp("", "glassbox-checkout-"); err != nil {
			return err
		}
	}
	s, err := openShop(ctx, o.dir)
	if err != nil {
		return err
	}
	p := &printer{w: stdout}
	p.header(s, o.dir)

	tr := &http.Transport{}
	t := &traffic{url: s.frontendURL, client: &http.Client{Transport: tr, Timeout: 30 * time.Second}, interval: o.interval, kinds: schedule()}
	start := time.Now()
	t.run(ctx, o.requests, o.duration, p.request)
	elapsed := time.Since(start)
	tr.CloseIdleConnections()

	// Everything the services logged is on disk once their telemetry is
	// shut down: only then can `glassbox trace` find all of it.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	// When a backend did not take everything by then, the summary still
	// comes (the files hold every document, and it says what the backend
	// missed), and then the error.
	cerr := s.close(sctx)
	p.summary(o.dir, elapsed, s.delivery())
	if cerr != nil {
		return fmt.Errorf("stopping the services: %w", cerr)
	}
	return nil
}
