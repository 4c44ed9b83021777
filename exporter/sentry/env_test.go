package sentry_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	gberrors "github.com/glassbox-obs/glassbox/errors"
	gbsentry "github.com/glassbox-obs/glassbox/exporter/sentry"
	"github.com/glassbox-obs/glassbox/internal/sentrytest"
	"github.com/glassbox-obs/glassbox/log"
)

// The environment variables New reads; each test sets its own.
var sentryEnv = []string{"SENTRY_DSN", "SENTRY_ENVIRONMENT", "SENTRY_RELEASE", "SENTRY_SAMPLE_RATE", "GLASSBOX_KIBANA_URL"}

func setEnv(t *testing.T, kv ...string) {
	for _, k := range sentryEnv {
		t.Setenv(k, "")
	}
	for i := 0; i+1 < len(kv); i += 2 {
		t.Setenv(kv[i], kv[i+1])
	}
}

// reportOne reports one error through a Reporter built by New(opts...)
// and returns the event srv received.
func reportOne(t *testing.T, srv *sentrytest.Server, opts ...gbsentry.Option) map[string]any {
	t.Helper()
	rep, err := gbsentry.New(append([]gbsentry.Option{gbsentry.WithErrorHandler(discardErrors{})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Shutdown(context.Background())
	rep.Report(requestCtx("corr-env"), gberrors.New("x"))
	return events(t, rep, srv, 1)[0]
}

// TestNewReadsEnvironment: New honours SENTRY_DSN, SENTRY_ENVIRONMENT,
// SENTRY_RELEASE, SENTRY_SAMPLE_RATE and GLASSBOX_KIBANA_URL by itself;
// options win over them, and the service's environment and version are
// the last resort.
func TestNewReadsEnvironment(t *testing.T) {
	svc := gbsentry.WithService(log.Service{Name: "orders", Environment: "svc-env", Version: "svc-v"})
	t.Run("environment", func(t *testing.T) {
		srv := sentrytest.NewServer(t)
		setEnv(t, "SENTRY_DSN", srv.DSN(), "SENTRY_ENVIRONMENT", "staging", "SENTRY_RELEASE", "v1.2.3",
			"SENTRY_SAMPLE_RATE", "1", "GLASSBOX_KIBANA_URL", "https://kibana.example")
		ev := reportOne(t, srv, svc)
		for k, want := range map[string]string{"environment": "staging", "release": "v1.2.3"} {
			if got := str(ev, k); got != want {
				t.Errorf("got %s %q, want %q", k, got, want)
			}
		}
		if got := str(ev, "contexts", "logs", "kibana_discover"); !strings.HasPrefix(got, "https://kibana.example/app/discover#/") {
			t.Errorf("got kibana link %q", got)
		}
	})
	t.Run("options win", func(t *testing.T) {
		srv := sentrytest.NewServer(t)
		setEnv(t, "SENTRY_DSN", "http://nope@127.0.0.1:1/1", "SENTRY_ENVIRONMENT", "staging", "SENTRY_RELEASE", "v1.2.3",
			"SENTRY_SAMPLE_RATE", "0.5", "GLASSBOX_KIBANA_URL", "https://kibana.example")
		ev := reportOne(t, srv, svc, gbsentry.WithDSN(srv.DSN()), gbsentry.WithEnvironment("prod"),
			gbsentry.WithRelease("v2"), gbsentry.WithSampleRate(1), gbsentry.WithKibanaURL("https://other.example"))
		if str(ev, "environment") != "prod" || str(ev, "release") != "v2" ||
			!strings.HasPrefix(str(ev, "contexts", "logs", "kibana_discover"), "https://other.example/") {
			t.Errorf("got environment %q release %q link %q, want the options'", str(ev, "environment"), str(ev, "release"),
				str(ev, "contexts", "logs", "kibana_discover"))
		}
	})
	t.Run("service last", func(t *testing.T) {
		srv := sentrytest.NewServer(t)
		setEnv(t, "SENTRY_DSN", srv.DSN())
		ev := reportOne(t, srv, svc)
		if str(ev, "environment") != "svc-env" || str(ev, "release") != "svc-v" || str(ev, "tags", "service") != "orders" {
			t.Errorf("got environment %q release %q service %q, want the service's", str(ev, "environment"), str(ev, "release"), str(ev, "tags", "service"))
		}
	})
	t.Run("sample rate", func(t *testing.T) {
		srv := sentrytest.NewServer(t)
		setEnv(t, "SENTRY_DSN", srv.DSN(), "SENTRY_SAMPLE_RATE", "0.0000001")
		rep, err := gbsentry.New()
		if err != nil {
			t.Fatal(err)
		}
		defer rep.Shutdown(context.Background())
		if id := rep.Report(context.Background(), gberrors.New("x")); id != "" {
			t.Errorf("got event %s, want it sampled out", id)
		}
		if st := rep.Stats(); st.SampledOut != 1 || st.Queued != 0 {
			t.Errorf("got %+v, want 1 sampled out", st)
		}
	})
}

func TestNewEnvironmentErrors(t *testing.T) {
	tests := []struct {
		name    string
		env     []string
		opts    []gbsentry.Option
		wantErr string
	}{
		{"no DSN", nil, nil, "SENTRY_DSN"},
		{"bad DSN", []string{"SENTRY_DSN", "::not a dsn"}, nil, "SENTRY_DSN"},
		{"DSN without project", []string{"SENTRY_DSN", "https://key@sentry.example/"}, nil, "SENTRY_DSN"},
		{"bad DSN option", []string{"SENTRY_DSN", "https://key@sentry.example/1"}, []gbsentry.Option{gbsentry.WithDSN("ftp://k@h/1")}, "WithDSN"},
		{"bad sample rate", []string{"SENTRY_DSN", "https://key@sentry.example/1", "SENTRY_SAMPLE_RATE", "lots"}, nil, "SENTRY_SAMPLE_RATE"},
		{"zero sample rate", []string{"SENTRY_DSN", "https://key@sentry.example/1", "SENTRY_SAMPLE_RATE", "0"}, nil, "SENTRY_SAMPLE_RATE"},
		{"bad Kibana URL", []string{"SENTRY_DSN", "https://key@sentry.example/1", "GLASSBOX_KIBANA_URL", "kibana:5601"}, nil, "GLASSBOX_KIBANA_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t, tt.env...)
			rep, err := gbsentry.New(tt.opts...)
			if err == nil {
				_ = rep.Shutdown(context.Background())
				t.Fatalf("got no error, want one naming %s", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got %q, want it to name %s", err, tt.wantErr)
			}
		})
	}
	setEnv(t)
	if _, err := gbsentry.New(); !errors.Is(err, gbsentry.ErrNoDSN) {
		t.Errorf("got %v without a DSN, want ErrNoDSN", err)
	}
}

// TestWithGetenv: New and Check read their variables through WithGetenv's
// function, wherever it is in the option list, and not the process
// environment; a nil function reads no environment.
func TestWithGetenv(t *testing.T) {
	srv := sentrytest.NewServer(t)
	setEnv(t, "SENTRY_DSN", "http://nope@127.0.0.1:1/1", "SENTRY_SAMPLE_RATE", "lots", "SENTRY_ENVIRONMENT", "process")
	env := map[string]string{"SENTRY_DSN": srv.DSN(), "SENTRY_ENVIRONMENT": "staging", "SENTRY_RELEASE": "v9"}
	getenv := gbsentry.WithGetenv(func(k string) string { return env[k] })

	ev := reportOne(t, srv, getenv)
	if str(ev, "environment") != "staging" || str(ev, "release") != "v9" {
		t.Errorf("got environment %q release %q, want WithGetenv's", str(ev, "environment"), str(ev, "release"))
	}
	d, err := gbsentry.Check(gbsentry.WithRelease("v2"), getenv)
	if err != nil || d.EnvelopeURL() != srv.URL()+"/api/"+sentrytest.ProjectID+"/envelope/" || d.ProjectID() != sentrytest.ProjectID {
		t.Fatalf("Check: got %v %v, want the envelope endpoint of %s", d, err, srv.URL())
	}
	if _, err := gbsentry.Check(); err == nil || !strings.Contains(err.Error(), "SENTRY_SAMPLE_RATE") {
		t.Errorf("Check without WithGetenv: got %v, want the process environment's sample rate refused", err)
	}
	if _, err := gbsentry.Check(gbsentry.WithGetenv(nil)); !errors.Is(err, gbsentry.ErrNoDSN) {
		t.Errorf("Check(WithGetenv(nil)): got %v, want ErrNoDSN", err)
	}
}

// TestCheckIsNew: one table of environments through Check and New: the
// same error, and for a DSN both accept, the envelope endpoint and the
// auth header New's events really go to.
func TestCheckIsNew(t *testing.T) {
	srv := sentrytest.NewServer(t)
	setEnv(t)
	for _, env := range []map[string]string{
		{},
		{"SENTRY_DSN": srv.DSN()},
		{"SENTRY_DSN": srv.DSN(), "SENTRY_SAMPLE_RATE": "0.5"},
		{"SENTRY_DSN": srv.DSN(), "SENTRY_SAMPLE_RATE": "1.5"},
		{"SENTRY_DSN": srv.DSN(), "SENTRY_SAMPLE_RATE": "NaN"},
		{"SENTRY_SAMPLE_RATE": "NaN"}, // no DSN: nothing to refuse
		{"SENTRY_DSN": srv.DSN(), "GLASSBOX_KIBANA_URL": "kibana:5601"},
		{"SENTRY_DSN": "https://sentry.example.com/42"},
		{"SENTRY_DSN": "https://key@sentry.example.com/"},
		{"SENTRY_DSN": "ftp://key@sentry.example.com/42"},
		{"SENTRY_DSN": "https://key@sentry.example.com/42?x=1"},
	} {
		t.Run(fmt.Sprint(env), func(t *testing.T) {
			getenv := gbsentry.WithGetenv(func(k string) string { return env[k] })
			d, checkErr := gbsentry.Check(getenv)
			rep, err := gbsentry.New(getenv, gbsentry.WithErrorHandler(discardErrors{}))
			if fmt.Sprint(checkErr) != fmt.Sprint(err) {
				t.Fatalf("Check: %v; New: %v", checkErr, err)
			}
			if err != nil {
				return
			}
			defer rep.Shutdown(context.Background())
			if d.EnvelopeURL() != srv.URL()+"/api/"+sentrytest.ProjectID+"/envelope/" {
				t.Errorf("EnvelopeURL: got %s", d.EnvelopeURL())
			}
			if env["SENTRY_SAMPLE_RATE"] != "" {
				return // the event may be sampled out
			}
			rep.Report(requestCtx("corr-check"), gberrors.New("x"))
			if err := rep.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			envs := srv.Envelopes()
			got := envs[len(envs)-1].HTTPHeader.Get("X-Sentry-Auth")
			client := strings.TrimSuffix(strings.SplitAfter(got, "sentry_client=")[1], ", sentry_key="+sentrytest.PublicKey)
			if want := d.AuthHeader(client); got != want {
				t.Errorf("X-Sentry-Auth: New sent %q, AuthHeader gives %q", got, want)
			}
		})
	}
}
