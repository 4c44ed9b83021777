package sentry

import (
	"strconv"
	"strings"
)

// parsePanicStack turns runtime/debug.Stack output, taken where a panic
// was recovered, into Sentry frames, oldest first, keeping the frames
// below the panic (those above it are the recovery machinery).
func parsePanicStack(b []byte) []frame {
	lines := strings.Split(string(b), "\n")
	var frames []frame // innermost first
	for i := 0; i+1 < len(lines); i++ {
		fn := lines[i]
		if fn == "" || strings.HasPrefix(fn, "goroutine ") || strings.HasPrefix(fn, "\t") {
			continue
		}
		if strings.HasPrefix(fn, "created by ") {
			break
		}
		if !strings.HasPrefix(lines[i+1], "\t") {
			continue
		}
		loc := strings.TrimSpace(lines[i+1])
		i++
		if j := strings.LastIndex(loc, " +0x"); j >= 0 {
			loc = loc[:j]
		}
		file, lineStr := loc, ""
		if j := strings.LastIndexByte(loc, ':'); j >= 0 {
			file, lineStr = loc[:j], loc[j+1:]
		}
		ln, _ := strconv.Atoi(lineStr)
		if strings.HasSuffix(fn, ")") {
			if j := strings.LastIndexByte(fn, '('); j > 0 {
				fn = fn[:j]
			}
		}
		if fn == "panic" || fn == "runtime.gopanic" {
			frames = frames[:0] // everything so far is the recovery machinery
			continue
		}
		if len(frames) < maxFrames {
			frames = append(frames, newFrame(fn, file, ln))
		}
	}
	out := make([]frame, 0, len(frames))
	for i := len(frames) - 1; i >= 0; i-- {
		out = append(out, frames[i])
	}
	return out
}
