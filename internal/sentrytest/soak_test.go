package sentrytest_test

import (
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/getsentry/sentry-go"

	"github.com/glassbox-obs/glassbox/internal/sentrytest"
)

func TestSetRefused(t *testing.T) {
	srv := sentrytest.NewServer(t)
	c, err := sentry.NewClient(sentry.ClientOptions{Dsn: srv.DSN(), Transport: sentry.NewHTTPSyncTransport()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.CaptureMessage("before", nil, nil)
	srv.WaitEvents(t, 1, 5*time.Second)

	if err := srv.SetRefused(true); err != nil {
		t.Fatal(err)
	}
	// The client's kept-alive connection is cut, and a new one refused.
	if err := dial(srv.URL()); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial while refused: got %v, want connection refused", err)
	}
	c.CaptureMessage("while refused", nil, nil)
	if got := len(srv.Events()); got != 1 {
		t.Fatalf("got %d events while refused, want 1 (the one before)", got)
	}

	if err := srv.SetRefused(false); err != nil {
		t.Fatal(err)
	}
	c.CaptureMessage("after", nil, nil)
	ev := srv.WaitEvents(t, 2, 5*time.Second)
	if got := ev[len(ev)-1]["message"]; got != "after" {
		t.Errorf("got last message %v, want after", got)
	}
}

// dial opens and closes a TCP connection to url's host and port.
func dial(url string) error {
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err == nil {
		conn.Close()
	}
	return err
}
