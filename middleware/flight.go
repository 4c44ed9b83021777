package middleware

import "github.com/glassbox-obs/glassbox/log"

// WithFlightRecorder gives every request (HTTP) and call (gRPC server) a
// log.Flight of r: the records its handler logs below the level, with its
// context, through a handler made with log.WithFlightRecorder(r), are
// kept instead of dropped. When the request fails they are written, in
// order, with their own timestamps and glassbox.replayed: true, before
// the records of the failure and before the observers end (so that they
// are also the Sentry event's breadcrumbs); when it succeeds they are
// discarded without being encoded. A request fails when it panics, is
// aborted, ends with a span status Error (HTTP 5xx; the gRPC codes
// Unknown, DeadlineExceeded, Unimplemented, Internal, Unavailable,
// DataLoss) or with an access record at ERROR (see WithStatusLevel and
// WithGRPCCodeLevel, which configure which statuses and codes do), or
// logs a record at ERROR. Requests skipped by WithSkipPaths,
// WithSkipGRPCMethods or WithFilter get no Flight. A nil r turns it off.
// Default: the one of SetDefault (glassbox.Start sets it when
// GLASSBOX_FLIGHT_RECORDER=on or glassbox.WithFlightRecorder), else none.
func WithFlightRecorder(r *log.FlightRecorder) Option {
	return optionFunc(func(c *config) { c.Flight = r })
}
