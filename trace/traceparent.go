package trace

import (
	oteltrace "go.opentelemetry.io/otel/trace"
)

// traceparentLen is the length of a version-00 traceparent value:
// version "-" trace-id "-" parent-id "-" trace-flags.
const traceparentLen = 2 + 1 + 32 + 1 + 16 + 1 + 2

// knownFlags are the trace flags the W3C Trace Context specification
// defines (sampled and random); the others are reserved, never sent.
const knownFlags = oteltrace.FlagsSampled | oteltrace.FlagsRandom

// parseTraceparent reads a traceparent header value under the W3C rules:
//
//   - optional whitespace (spaces and tabs) around the value is ignored;
//   - every field is lowercase hex of its exact length, separated by '-';
//   - version ff is invalid; version 00 has exactly four fields; a later
//     version is read as 00 and may carry more fields after a '-';
//   - an all-zero trace-id or parent-id is invalid;
//   - of the trace flags, only sampled and random are kept.
//
// ok is false when the value is not a valid traceparent: the caller then
// starts a new trace.
func parseTraceparent(h string) (sc oteltrace.SpanContextConfig, ok bool) {
	h = trimOWS(h)
	if len(h) < traceparentLen || h[2] != '-' || h[35] != '-' || h[52] != '-' {
		return sc, false
	}
	version, ok := hexByte(h[0], h[1])
	switch {
	case !ok, version == 0xff:
		return sc, false
	case version == 0:
		if len(h) != traceparentLen {
			return sc, false
		}
	case len(h) > traceparentLen && h[traceparentLen] != '-':
		return sc, false
	}
	if !decodeHex(sc.TraceID[:], h[3:35]) || !decodeHex(sc.SpanID[:], h[36:52]) {
		return sc, false
	}
	flags, ok := hexByte(h[53], h[54])
	if !ok || !sc.TraceID.IsValid() || !sc.SpanID.IsValid() {
		return oteltrace.SpanContextConfig{}, false
	}
	sc.TraceFlags = oteltrace.TraceFlags(flags) & knownFlags
	sc.Remote = true
	return sc, true
}

// formatTraceparent writes sc as a version-00 traceparent with the known
// flags only.
func formatTraceparent(sc oteltrace.SpanContext) string {
	var b [traceparentLen]byte
	b[0], b[1], b[2] = '0', '0', '-'
	tid, sid := sc.TraceID(), sc.SpanID()
	encodeHex(b[3:35], tid[:])
	b[35] = '-'
	encodeHex(b[36:52], sid[:])
	b[52] = '-'
	encodeHex(b[53:55], []byte{byte(sc.TraceFlags() & knownFlags)})
	return string(b[:])
}

// trimOWS removes the optional whitespace of HTTP (spaces and tabs) around s.
func trimOWS(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

const lowerHex = "0123456789abcdef"

// hexValue maps a lowercase hex digit to its value; every other byte,
// uppercase A-F included, maps to 0xff.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := 0; i < len(lowerHex); i++ {
		t[lowerHex[i]] = byte(i)
	}
	return t
}()

func hexByte(hi, lo byte) (byte, bool) {
	h, l := hexValue[hi], hexValue[lo]
	return h<<4 | l, (h|l)&0xf0 == 0
}

// decodeHex decodes the lowercase hex src (twice len(dst) bytes) into dst.
func decodeHex(dst []byte, src string) bool {
	for i := range dst {
		b, ok := hexByte(src[2*i], src[2*i+1])
		if !ok {
			return false
		}
		dst[i] = b
	}
	return true
}

func encodeHex(dst, src []byte) {
	for i, b := range src {
		dst[2*i], dst[2*i+1] = lowerHex[b>>4], lowerHex[b&0x0f]
	}
}
