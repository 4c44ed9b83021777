package middleware

import "github.com/glassbox-obs/glassbox/middleware/internal/instrument"

// The instrumentation scope of the spans, and the attribute and log field
// names glassbox adds to the semantic conventions.
const (
	// ScopeName ("github.com/glassbox-obs/glassbox/middleware") is the
	// instrumentation scope of the spans the middleware and the grpcmw
	// interceptors start.
	ScopeName = instrument.ScopeName
	// AttrCorrelationID ("correlation.id") is the span attribute and log
	// field of the correlation ID.
	AttrCorrelationID = instrument.AttrCorrelationID
	// AttrCorrelationIDRejected ("correlation.id_rejected") counts inbound
	// correlation ID values that were invalid and therefore ignored (never
	// recorded). It is set only when non-zero.
	AttrCorrelationIDRejected = instrument.AttrCorrelationIDRejected
	// AttrErrorID ("error.id") is the log field of the error event an
	// Observer recorded (the Sentry event ID).
	AttrErrorID = instrument.AttrErrorID
)
