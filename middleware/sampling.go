package middleware

import (
	"time"

	"github.com/glassbox-obs/glassbox/middleware/internal/instrument"
)

// WithAccessSampling turns on outcome-aware sampling of access records:
// of the requests that succeed at INFO in less than slow, and whose trace
// is not sampled, 1 in every keeps its access record; failures, records
// at WARN and above, requests that took slow or longer (slow > 0) and
// sampled traces always keep theirs. Which unsampled requests keep it is
// decided by their trace ID (correlation ID without a trace), the same
// way in every service. With sampling on, every access record carries
// glassbox.sample_rate, the fraction of its kind kept (1, or 1/every), so
// that counts can be scaled back up: each record stands for
// 1/glassbox.sample_rate requests. every <= 1 turns sampling off.
// Default: off.
func WithAccessSampling(every int, slow time.Duration) Option {
	return optionFunc(func(c *config) {
		c.Sampling = instrument.AccessSampling{Every: max(every, 0), Slow: max(slow, 0)}
	})
}
