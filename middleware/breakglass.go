package middleware

import (
	"github.com/glassbox-obs/glassbox/internal/debugtoken"
	"github.com/glassbox-obs/glassbox/middleware/breakglass"
)

// WithBreakGlass turns break-glass debugging on with v (see package
// breakglass): a request carrying a valid token in X-Glassbox-Debug
// (metadata x-glassbox-debug) is logged from DEBUG up (this needs
// WithFlightRecorder, whose Flight carries the request's level; a
// recorder made with log.WithFlightLimits(0, 0) keeps no records and
// only does that), its trace is sampled (by glassbox.DebugSampler, which
// glassbox.Start installs), the calls it makes pass the debugging on, and
// an audit record is written at WARN. A nil v turns it off. Default: the
// one of SetDefault (glassbox.Start sets it when GLASSBOX_DEBUG_KEYS or
// glassbox.WithDebugKeys gives keys), else none: X-Glassbox-Debug is then
// an ordinary header (redacted wherever headers are recorded).
func WithBreakGlass(v *breakglass.Verifier) Option {
	return optionFunc(func(c *config) { c.BreakGlass = (*debugtoken.Verifier)(v) })
}
