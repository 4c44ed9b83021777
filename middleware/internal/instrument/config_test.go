package instrument_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/middleware/internal/instrument"
)

type namedObserver string

func (namedObserver) Begin(ctx context.Context, _ *middleware.Request) context.Context { return ctx }
func (namedObserver) End(context.Context, *middleware.Request, *middleware.Outcome) string {
	return ""
}

// The default applies first; each setting a constructor's options touch
// is theirs, and options that add to a list replace the default's list.
func TestDefaultThenOptions(t *testing.T) {
	defLog, ownLog := slog.New(slog.DiscardHandler), slog.New(slog.DiscardHandler)
	middleware.SetDefault(
		middleware.WithLogger(defLog),
		middleware.WithObservers(namedObserver("sentry")),
		middleware.WithTrustedPeers("10.0.0.0/8"),
		middleware.WithRequestHeaders("X-Tenant"),
	)
	t.Cleanup(func() { middleware.SetDefault() })

	names := func(c *instrument.Config) (out []string) {
		for _, o := range c.Observers {
			out = append(out, string(o.(namedObserver)))
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		opts      []middleware.Option
		logger    *slog.Logger
		observers []string
		peers     int
		headers   int
	}{
		{"no options", nil, defLog, []string{"sentry"}, 1, 1},
		{"own logger", []middleware.Option{middleware.WithLogger(ownLog)}, ownLog, []string{"sentry"}, 1, 1},
		{"own observers replace the default's", []middleware.Option{
			middleware.WithObservers(namedObserver("audit")), middleware.WithObservers(namedObserver("metrics")),
		}, defLog, []string{"audit", "metrics"}, 1, 1},
		{"the default's observers passed again, plus one", append(middleware.Default(), middleware.WithObservers(namedObserver("audit"))),
			defLog, []string{"sentry", "audit"}, 1, 1},
		{"own lists", []middleware.Option{middleware.WithTrustedPeers("192.168.0.0/16", "172.16.0.0/12"), middleware.WithRequestHeaders()},
			defLog, []string{"sentry"}, 2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := instrument.New(tc.opts)
			if c.Logger() != tc.logger {
				t.Error("logger: not the one wanted")
			}
			if got := names(c); len(got) != len(tc.observers) || (len(got) > 0 && (got[0] != tc.observers[0] || got[len(got)-1] != tc.observers[len(tc.observers)-1])) {
				t.Errorf("observers: got %v, want %v", got, tc.observers)
			}
			if len(c.TrustedPeers) != tc.peers || len(c.Headers) != tc.headers {
				t.Errorf("trusted peers %d, headers %d; want %d, %d", len(c.TrustedPeers), len(c.Headers), tc.peers, tc.headers)
			}
		})
	}

	middleware.SetDefault()
	if d := middleware.Default(); d != nil {
		t.Errorf("SetDefault(): got default %v, want none", d)
	}
	if c := instrument.New(nil); len(c.Observers) != 0 || c.LoggerSet != nil {
		t.Errorf("without a default: observers %d, logger set %v; want none", len(c.Observers), c.LoggerSet != nil)
	}
}

// Default returns a copy: changing it changes nothing.
func TestDefaultIsACopy(t *testing.T) {
	middleware.SetDefault(middleware.WithObservers(namedObserver("sentry")))
	t.Cleanup(func() { middleware.SetDefault() })
	d := middleware.Default()
	d[0] = middleware.WithObservers(namedObserver("other"))
	if c := instrument.New(nil); len(c.Observers) != 1 || c.Observers[0].(namedObserver) != "sentry" {
		t.Errorf("the default changed through the slice Default returned")
	}
}
