package glassbox

import (
	"context"
	"fmt"
	"strings"

	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/middleware"
)

// EnvFlightRecorder turns the flight recorder on ("on", "true", "1") or
// off ("off", "false", "0").
const EnvFlightRecorder = "GLASSBOX_FLIGHT_RECORDER"

// flightConfig holds the flight recorder's settings: GLASSBOX_FLIGHT_RECORDER,
// then WithFlightRecorder.
type flightConfig struct {
	on   bool
	opts []log.FlightOption
}

func (c *flightConfig) loadEnv(getenv func(string) string) error {
	switch v := strings.ToLower(strings.TrimSpace(getenv(EnvFlightRecorder))); v {
	case "":
	case "on", "true", "1":
		c.on = true
	case "off", "false", "0":
		c.on = false
	default:
		return fmt.Errorf("glassbox: %s: %q is neither on nor off", EnvFlightRecorder, truncate(v, 32))
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// WithFlightRecorder turns the flight recorder on, bounded by opts (see
// log.FlightRecorder; default 256 records and 64 KiB per request, 16 MiB
// in all): the records a request logs below the level are kept in memory
// and written, marked glassbox.replayed, only if the request fails (see
// middleware.WithFlightRecorder), where they are also the Sentry event's
// breadcrumbs. Start gives the recorder to its handler and to the
// middleware default. Its counters are in Telemetry.Stats().FlightRecorder.
// Default: GLASSBOX_FLIGHT_RECORDER=on; this option wins. Off by default.
func WithFlightRecorder(opts ...log.FlightOption) Option {
	return optionFunc(func(c *config) {
		c.flight.on = true
		c.flight.opts = append(c.flight.opts, opts...)
	})
}

// setupFlight makes the recorder when the flight recorder or break-glass
// debugging is on (the latter needs it for the level of a debugged
// request; with the former off it keeps no records).
func setupFlight(_ context.Context, b *builder) error {
	c := &b.cfg.flight
	if !c.on && len(b.cfg.debug.keys) == 0 {
		return nil
	}
	opts := c.opts
	if !c.on {
		opts = []log.FlightOption{log.WithFlightLimits(0, 0)}
	}
	rec := log.NewFlightRecorder(opts...)
	b.logOptions = append(b.logOptions, log.WithFlightRecorder(rec))
	b.mwOptions = append(b.mwOptions, middleware.WithFlightRecorder(rec))
	if c.on {
		b.onStats(func(st *Stats) { st.FlightRecorder, st.Enabled.FlightRecorder = rec.Stats(), true })
	}
	return nil
}
