package log

import (
	"context"
	"log/slog"
)

// How the handler routes records when it has a flight recorder
// (WithFlightRecorder): Enabled asks wants, Handle asks intercept.

// wants reports whether a record at level l (below the handler's) with
// context ctx would be kept or written.
func (r *FlightRecorder) wants(ctx context.Context, l slog.Level) bool {
	if r.open.Load() == 0 {
		return false
	}
	fl := FlightFrom(ctx)
	if fl == nil || fl.rec != r || fl.sealed.Load() {
		return false
	}
	if r.maxRecords > 0 {
		return true
	}
	lv := fl.level.Load()
	return lv != 0 && int64(l)+levelBias >= lv
}

// intercept routes r when the handler's flight recorder has a say: a
// record below the level goes to its context's Flight (kept, written at
// once when the request has failed or the Flight's level admits it, or
// dropped when the Flight has ended); a record at slog.LevelError or above
// first replays what the Flight kept. It reports whether r was dealt with
// (Handle then returns), false when Handle must write it as usual.
func (r *FlightRecorder) intercept(h *Handler, ctx context.Context, rec *slog.Record) bool {
	// A below-level record only gets here when Enabled let it through,
	// for a Flight's context (or when Handle is called directly): the
	// lookup is worth it. Other records pass on one comparison.
	below := rec.Level < h.core.level.Level()
	if !below && (rec.Level < slog.LevelError || r.open.Load() == 0) {
		return false
	}
	fl := FlightFrom(ctx)
	if fl == nil || fl.rec != r {
		return false
	}
	if !below {
		fl.Fail()
		return false
	}
	if lv := fl.level.Load(); lv != 0 && int64(rec.Level)+levelBias >= lv && !fl.sealed.Load() {
		return false // a break-glass request: written as usual
	}
	fl.keep(h, ctx, rec)
	return true
}
