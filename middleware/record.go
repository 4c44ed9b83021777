package middleware

import (
	"context"
	"log/slog"

	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/trace"
)

// HandleRecord passes rec to h. glassbox's log.Handler reads
// correlation.id, trace.id and span.id from ctx itself; any other handler
// does not, so for it they are added to rec as attributes. Every record the
// middleware writes goes through here, so that it carries the request's IDs
// whatever handler WithLogger was given.
func HandleRecord(ctx context.Context, h slog.Handler, rec slog.Record) {
	if _, ok := h.(*log.Handler); !ok {
		ids := trace.FromContext(ctx)
		if ids.CorrelationID != "" {
			rec.AddAttrs(slog.String(AttrCorrelationID, ids.CorrelationID))
		}
		if ids.HasTrace() {
			rec.AddAttrs(slog.String("trace.id", ids.TraceID.String()), slog.String("span.id", ids.SpanID.String()))
		}
	}
	_ = h.Handle(ctx, rec)
}
