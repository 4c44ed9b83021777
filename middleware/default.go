package middleware

import "github.com/glassbox-obs/glassbox/middleware/internal/instrument"

// SetDefault makes opts the default options of HTTP, Transport and the
// grpcmw constructors: each applies them first, then its own, so a setting
// its own options touch is theirs (options that add to a list, such as
// WithObservers, replace the default's list). With no opts there is no
// default. glassbox.Start sets its Telemetry's MiddlewareOptions
// (TracerProvider, propagator, logger, Sentry observers, redaction list)
// unless told WithoutSetDefault, and Shutdown restores the previous
// default; so after Start, middleware.HTTP() with no options behaves as
// middleware.HTTP(tel.MiddlewareOptions()...).
//
// The default is read when a middleware or interceptor is built: those
// built before a change keep what they were built with. It is one atomic
// value, safe for concurrent use.
//
// Without any default, each option's own default applies: the OTel global
// TracerProvider, trace.Propagator(), slog.Default(), log.NewRedactor(),
// no observers.
func SetDefault(opts ...Option) { instrument.SetDefault(opts...) }

// Default returns the options of the last SetDefault, a new slice; nil when
// there is no default.
func Default() []Option { return instrument.Default() }
