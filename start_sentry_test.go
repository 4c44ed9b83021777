package glassbox

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/glassbox-obs/glassbox/exporter/sentry"
	"github.com/glassbox-obs/glassbox/internal/sentrytest"
	"github.com/glassbox-obs/glassbox/middleware"
)

func TestSentryOffWithoutDSN(t *testing.T) {
	tel, _ := startT(t, env("GLASSBOX_KIBANA_URL", "https://kibana.example"))
	if n := len(tel.Observers()); n != 0 {
		t.Errorf("got %d observers without SENTRY_DSN, want 0", n)
	}
}

// TestSentryReadsStartsEnvironment: the Sentry exporter reads the
// environment Start reads (its getenv), not the process environment
// behind it.
func TestSentryReadsStartsEnvironment(t *testing.T) {
	srv := sentrytest.NewServer(t)
	t.Setenv("SENTRY_DSN", srv.DSN())
	t.Setenv("SENTRY_SAMPLE_RATE", "lots") // Start would fail on it
	tel, _ := startT(t, env())
	if n := len(tel.Observers()); n != 0 {
		t.Errorf("got %d observers with SENTRY_DSN in the process environment only, want 0", n)
	}
}

func TestSentryFromEnv(t *testing.T) {
	srv := sentrytest.NewServer(t)
	tel, _ := startT(t, env(
		"OTEL_SERVICE_NAME", "orders",
		"SENTRY_DSN", srv.DSN(),
		"SENTRY_ENVIRONMENT", "staging",
		"SENTRY_RELEASE", "v1.2.3",
		"SENTRY_SAMPLE_RATE", "1",
		"GLASSBOX_KIBANA_URL", "https://kibana.example",
	), WithRedactKeys("account_no"))
	obs := tel.Observers()
	if len(obs) != 1 {
		t.Fatalf("got %d observers, want 1", len(obs))
	}
	req := &middleware.Request{Protocol: "http", Method: "GET", Route: "/x", CorrelationID: "corr-env",
		HTTP: httptest.NewRequest("GET", "http://svc/x?account_no=ACC123", nil)}
	ctx := obs[0].Begin(context.Background(), req)
	tel.Logger().InfoContext(ctx, "step one")
	id := obs[0].End(ctx, req, &middleware.Outcome{Status: 500})
	if id == "" {
		t.Fatal("got no event ID")
	}
	// Shutdown flushes the event.
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tel.Shutdown(sctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	evs := srv.Events()
	if len(evs) != 1 {
		t.Fatalf("got %d events, want 1", len(evs))
	}
	ev := evs[0]
	for k, want := range map[string]string{"environment": "staging", "release": "v1.2.3", "event_id": id} {
		if got, _ := ev[k].(string); got != want {
			t.Errorf("got %s %q, want %q", k, got, want)
		}
	}
	tags, _ := ev["tags"].(map[string]any)
	if tags["service"] != "orders" || tags["correlation_id"] != "corr-env" {
		t.Errorf("got tags %v", tags)
	}
	logs, _ := ev["contexts"].(map[string]any)["logs"].(map[string]any)
	if link, _ := logs["kibana_discover"].(string); !strings.HasPrefix(link, "https://kibana.example/app/discover#/") {
		t.Errorf("got kibana link %q", link)
	}
	bc, _ := ev["breadcrumbs"].(map[string]any)["values"].([]any)
	if len(bc) != 1 {
		t.Errorf("got breadcrumbs %v, want the request's record", ev["breadcrumbs"])
	}
	if strings.Contains(string(srv.Envelopes()[0].Raw), "ACC123") {
		t.Error("the redaction list of Start was not applied to the query string")
	}
}

func TestSentryCodeOptionsWin(t *testing.T) {
	srv := sentrytest.NewServer(t)
	tel, _ := startT(t, env("SENTRY_DSN", "http://nope@127.0.0.1:1/1", "SENTRY_ENVIRONMENT", "from-env"),
		WithSentry(sentry.WithDSN(srv.DSN()), sentry.WithEnvironment("from-code")))
	obs := tel.Observers()
	if len(obs) != 1 {
		t.Fatalf("got %d observers, want 1", len(obs))
	}
	rep := obs[0].(*sentry.Reporter)
	rep.Report(context.Background(), errors.New("x"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rep.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	evs := srv.Events()
	if len(evs) != 1 || evs[0]["environment"] != "from-code" {
		t.Fatalf("got events %v, want one with environment from-code", evs)
	}
}

func TestSentryConfigErrors(t *testing.T) {
	tests := []struct {
		name    string
		env     []string
		opts    []Option
		wantErr string
	}{
		{"bad sample rate", []string{"SENTRY_DSN", "http://k@127.0.0.1:1/1", "SENTRY_SAMPLE_RATE", "lots"}, nil, "SENTRY_SAMPLE_RATE"},
		{"zero sample rate", []string{"SENTRY_DSN", "http://k@127.0.0.1:1/1", "SENTRY_SAMPLE_RATE", "0"}, nil, "SENTRY_SAMPLE_RATE"},
		{"bad DSN", []string{"SENTRY_DSN", "::not a dsn"}, nil, "SENTRY_DSN"},
		{"bad Kibana URL", []string{"SENTRY_DSN", "http://k@127.0.0.1:1/1", "GLASSBOX_KIBANA_URL", "kibana:5601"}, nil, "GLASSBOX_KIBANA_URL"},
		{"WithSentry without DSN", nil, []Option{WithSentry()}, "DSN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tel, err := Start(context.Background(), append([]Option{WithLogWriter(nil), WithoutSetDefault(), env(tt.env...)}, tt.opts...)...)
			if err == nil {
				_ = tel.Shutdown(context.Background())
				t.Fatalf("got no error, want one naming %s", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got %q, want it to name %s", err, tt.wantErr)
			}
		})
	}
}
