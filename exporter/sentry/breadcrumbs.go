package sentry

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"time"
)

// ecsCommon are the document fields every record has; breadcrumbs leave
// them out.
var ecsCommon = map[string]bool{
	"@timestamp": true, "log.level": true, "message": true, "ecs.version": true,
	"service.name": true, "service.version": true, "service.environment": true,
	"host.name": true, "event.dataset": true, "data_stream.type": true,
	"data_stream.dataset": true, "data_stream.namespace": true, "log.logger": true,
	"correlation.id": true, "trace.id": true, "span.id": true,
	"error.stack_trace": true, // the exception carries the stack
}

// breadcrumbs turns a request's records into breadcrumbs, oldest first,
// with the record's own fields as data (scrubbed).
func (r *Reporter) breadcrumbs(cs []crumb) []breadcrumb {
	out := make([]breadcrumb, 0, len(cs))
	for _, c := range cs {
		b := breadcrumb{
			Type: "default", Category: "log", Message: sanitize(c.msg, maxDataStringLen),
			Level: sentryLevel(c.level), Timestamp: crumbTime(c.t),
		}
		if c.level >= slog.LevelError {
			b.Type = "error"
		}
		if len(c.doc) > 0 {
			var m map[string]any
			dec := json.NewDecoder(bytes.NewReader(c.doc))
			dec.UseNumber()
			if dec.Decode(&m) == nil {
				for k := range m {
					if ecsCommon[k] {
						delete(m, k)
					}
				}
				if len(m) > 0 {
					b.Data, _ = r.scrubData(m, 0).(map[string]any)
				}
			}
		}
		out = append(out, b)
	}
	return out
}

// crumbTime is t, or the zero time when JSON cannot hold t (a year
// outside 0..9999): a record's odd time must not cost the event.
func crumbTime(t time.Time) time.Time {
	if y := t.Year(); y < 0 || y > 9999 {
		return time.Time{}
	}
	return t
}

func sentryLevel(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return levelError
	case l >= slog.LevelWarn:
		return levelWarning
	case l >= slog.LevelInfo:
		return levelInfo
	}
	return levelDebug
}
