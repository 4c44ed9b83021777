package sentry

import "github.com/glassbox-obs/glassbox/internal/gostack"

// parsePanicStack turns runtime/debug.Stack output, taken where a panic
// was recovered, into Sentry frames, oldest first, keeping the frames
// below the panic (those above it are the recovery machinery): the frames
// gostack.Parse reads, the same that glassbox trace finds a crash site in.
func parsePanicStack(b []byte) []frame {
	frames := gostack.Parse(string(b)) // innermost first
	frames = frames[:min(len(frames), maxFrames)]
	out := make([]frame, 0, len(frames))
	for i := len(frames) - 1; i >= 0; i-- {
		out = append(out, newFrame(frames[i].Function, frames[i].File, frames[i].Line))
	}
	return out
}
