package sentry

import (
	"strconv"
	"strings"
)

// fingerprint groups by the root cause's type and the in-app frames of the
// innermost stack: the crash site with its line, then up to nine callers
// by function. Messages never take part, so IDs in them do not split
// groups. Failures without an in-app frame group by what failed where.
func fingerprint(exc []exception, f *failure, synthetic bool) []string {
	var fp []string
	if !synthetic && len(exc) > 0 {
		fp = append(fp, exc[0].Type)
		for _, e := range exc {
			if e.Stacktrace == nil {
				continue
			}
			frames := e.Stacktrace.Frames
			n := 0
			for i := len(frames) - 1; i >= 0 && n < 10; i-- {
				fr := frames[i]
				if !fr.InApp {
					continue
				}
				s := fr.Module + "." + fr.Function
				if n == 0 {
					s += ":" + strconv.Itoa(fr.Lineno)
				}
				fp = append(fp, s)
				n++
			}
			if n > 0 {
				return fp
			}
		}
	}
	fp = []string{"glassbox"}
	if synthetic || len(exc) == 0 {
		fp = append(fp, "status")
	} else {
		fp = append(fp, exc[0].Type)
	}
	switch {
	case f.grpcCode != 0:
		fp = append(fp, "grpc", grpcCodeName(f.grpcCode))
	case f.status != 0:
		fp = append(fp, "http", strconv.Itoa(f.status))
	case f.panic:
		fp = append(fp, "panic")
	}
	if f.req != nil {
		fp = append(fp, f.req.Method, f.req.Route)
	}
	return fp
}

// fingerprintKey is the aggregation key of a fingerprint.
func fingerprintKey(fp []string) string { return strings.Join(fp, "\x00") }
