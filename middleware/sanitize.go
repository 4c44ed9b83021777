package middleware

import (
	"github.com/glassbox-obs/glassbox/internal/textsafe"
	"github.com/glassbox-obs/glassbox/middleware/internal/instrument"
)

// Caps on the length (in bytes) of request-controlled values written to
// span attributes and log fields.
const (
	maxValueLen = instrument.MaxValueLen
	maxPathLen  = instrument.MaxPathLen
)

// Sanitize returns s made safe for a log field or span attribute: invalid
// UTF-8, control characters (C0, DEL, C1), U+2028/U+2029, bidirectional
// controls and the byte-order mark are replaced by U+FFFD, and the result
// is cut to at most max bytes (at least 4) at a character boundary, with
// "..." marking the cut. Clean values are returned as they are, without
// allocating.
func Sanitize(s string, max int) string { return textsafe.Sanitize(s, max) }

func sanitize(s string, max int) string { return textsafe.Sanitize(s, max) }
