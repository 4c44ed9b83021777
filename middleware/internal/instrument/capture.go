package instrument

// Caps on the length (in bytes) of request-controlled values written to
// span attributes and log fields.
const (
	MaxValueLen = 1024
	MaxPathLen  = 2048
)

// maxHeaderValues caps the values captured per header.
const maxHeaderValues = 8

// CapturedValues returns the values of a captured request header or
// metadata key as they are recorded: at most 8, each as
// log.Redactor.RedactHeader returns it ("[REDACTED]" when name is on the
// redaction list; Referer, Origin and Location without user info,
// fragment and secret query values), cut to 1 KiB.
func (c *Config) CapturedValues(name string, vals []string) []string {
	if len(vals) > maxHeaderValues {
		vals = vals[:maxHeaderValues]
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = c.Redactor.RedactHeader(name, v, MaxValueLen)
	}
	return out
}
