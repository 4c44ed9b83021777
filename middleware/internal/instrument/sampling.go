package instrument

import (
	"log/slog"
	"time"

	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/internal/ecs"
)

// AccessSampling is outcome-aware sampling of access records
// (WithAccessSampling): of the successful, fast requests at INFO whose
// trace is not sampled, 1 in Every keeps its access record.
type AccessSampling struct {
	// Every is N of "1 in N"; 0 or 1 keeps every record (sampling off).
	Every int
	// Slow is the duration from which a request always keeps its record;
	// 0 means none is slow.
	Slow time.Duration
}

// sampleAccess decides whether the access record of a request is
// written, and the fraction of records like it that are: 1 for those
// always kept (failures, WARN and above, slow requests, sampled traces),
// 1/Every for the others, kept when the hash of their trace ID (or
// correlation ID, without a trace) falls in one bucket of Every. The hash
// is the same in every service of a trace, so a request keeps or drops
// its access records everywhere alike, and it is independent of the
// trace-ID ratio sampler's (which reads the ID's last 8 bytes as a
// number), so the records of unsampled traces are a fair sample of them.
func (c *Config) sampleAccess(e *End, v *verdict) (keep bool, rate float64) {
	s := &c.Sampling
	switch {
	case v.failed() || v.level > slog.LevelInfo:
		return true, 1
	case s.Slow > 0 && e.Out.Duration >= s.Slow:
		return true, 1
	}
	sc := e.Span.SpanContext()
	if sc.IsSampled() {
		return true, 1
	}
	return sampleHash(sc, e.Req.CorrelationID)%uint64(s.Every) == 0, 1 / float64(s.Every)
}

// appendSampleRate appends the access record's glassbox.sample_rate.
func appendSampleRate(la []slog.Attr, rate float64) []slog.Attr {
	return append(la, slog.Float64(ecs.GlassboxSampleRate, rate))
}

// sampleHash is FNV-1a over the trace ID, or the correlation ID when
// there is no trace, then mixed (splitmix64's finaliser) so that every
// bit of the input moves the bucket.
func sampleHash(sc oteltrace.SpanContext, corrID string) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	if tid := sc.TraceID(); tid.IsValid() {
		for _, b := range tid {
			h = (h ^ uint64(b)) * prime
		}
	} else {
		for i := 0; i < len(corrID); i++ {
			h = (h ^ uint64(corrID[i])) * prime
		}
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	return h ^ h>>31
}
