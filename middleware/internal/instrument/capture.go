package instrument

import (
	"github.com/glassbox-obs/glassbox/internal/textsafe"
	"github.com/glassbox-obs/glassbox/log"
)

// Caps on the length (in bytes) of request-controlled values written to
// span attributes and log fields.
const (
	MaxValueLen = 1024
	MaxPathLen  = 2048
)

// maxHeaderValues caps the values captured per header.
const maxHeaderValues = 8

// CapturedValues returns the values of a captured request header or
// metadata key as they are recorded: at most 8, each "[REDACTED]" when name
// is on the redaction list, else sanitised and cut to 1 KiB.
func (c *Config) CapturedValues(name string, vals []string) []string {
	if len(vals) > maxHeaderValues {
		vals = vals[:maxHeaderValues]
	}
	out := make([]string, len(vals))
	redact := c.Redactor.Match(name)
	for i, v := range vals {
		if redact {
			out[i] = log.Redacted
		} else {
			out[i] = textsafe.Sanitize(v, MaxValueLen)
		}
	}
	return out
}
