package slo

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Kind is what an SLO measures.
type Kind string

// The SLO kinds.
const (
	// Availability: the share of requests that do not fail (HTTP 5xx and
	// the gRPC codes of FailedGRPCCodes fail).
	Availability Kind = "availability"
	// Latency: the share of requests served within a threshold.
	Latency Kind = "latency"
)

// SLO is one service-level objective, as given on the command line:
// "availability=99.9" or "latency=0.25s@99".
type SLO struct {
	Kind Kind
	// Objective is the target share of good requests, in percent (99.9).
	Objective float64
	// Threshold is the latency bound (Latency only); a bucket boundary.
	Threshold time.Duration
}

// maxFastBurn is the highest burn rate an alert pair checks (1h/5m).
const maxFastBurn = 14.4

// Parse reads an SLO in the command-line form:
//
//	availability=<percent>          availability=99.9
//	latency=<duration>@<percent>    latency=250ms@99, latency=0.25s@99
//
// The percent is above 0 and below 100, with room for a 14.4x burn (above
// 93.06); a latency threshold is one of Buckets().
func Parse(s string) (SLO, error) {
	kind, val, ok := strings.Cut(strings.TrimSpace(s), "=")
	if !ok {
		return SLO{}, fmt.Errorf("SLO %q: want availability=<percent> or latency=<duration>@<percent>", s)
	}
	var o SLO
	switch Kind(strings.ToLower(kind)) {
	case Availability:
		o.Kind = Availability
	case Latency:
		o.Kind = Latency
		th, pct, ok := strings.Cut(val, "@")
		if !ok {
			return SLO{}, fmt.Errorf("SLO %q: want latency=<duration>@<percent>, e.g. latency=250ms@99", s)
		}
		d, err := parseThreshold(th)
		if err != nil {
			return SLO{}, fmt.Errorf("SLO %q: %w", s, err)
		}
		o.Threshold, val = d, pct
	default:
		return SLO{}, fmt.Errorf("SLO %q: unknown kind %q (want availability or latency)", s, kind)
	}
	p, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(val), "%"), 64)
	if err != nil || math.IsNaN(p) || p <= 0 || p >= 100 {
		return SLO{}, fmt.Errorf("SLO %q: objective %q is not a percentage between 0 and 100 (exclusive)", s, val)
	}
	if maxFastBurn*(100-p) >= 100 {
		return SLO{}, fmt.Errorf("SLO %q: an objective of %g%% leaves a budget a 14.4x burn cannot exceed; "+
			"multi-window burn-rate alerts need an objective above 93.06%%", s, p)
	}
	o.Objective = p
	return o, nil
}

// parseThreshold reads a Go duration ("250ms", "0.25s") or a number of
// seconds ("0.25") and checks it is a bucket boundary.
func parseThreshold(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	d, err := time.ParseDuration(s)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f <= 0 || math.IsInf(f, 0) {
			return 0, fmt.Errorf("latency threshold %q is not a duration (250ms, 0.25s)", s)
		}
		d = time.Duration(math.Round(f * float64(time.Second)))
	}
	var bounds []string
	for _, b := range Buckets() {
		if b == d {
			return d, nil
		}
		bounds = append(bounds, secondsString(b)+"s")
	}
	return 0, fmt.Errorf("latency threshold %s is not a bucket boundary of %s; "+
		"Prometheus can only count requests under a boundary exactly. Use one of: %s",
		s, HTTPDuration, strings.Join(bounds, ", "))
}

// String returns the SLO in the form Parse reads.
func (o SLO) String() string {
	if o.Kind == Latency {
		return fmt.Sprintf("latency=%ss@%s", secondsString(o.Threshold), fmtNumber(o.Objective))
	}
	return fmt.Sprintf("availability=%s", fmtNumber(o.Objective))
}

// Budget returns the error budget as a ratio: 0.001 for 99.9.
func (o SLO) Budget() float64 {
	return roundSig((100 - o.Objective) / 100)
}

// roundSig rounds f to 12 significant digits, so 100-99.9 is 0.1, not
// 0.09999999999999432.
func roundSig(f float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 12, 64), 64)
	return r
}

// fmtNumber writes f as PromQL and YAML read it, in the shortest form.
func fmtNumber(f float64) string {
	return strconv.FormatFloat(roundSig(f), 'g', -1, 64)
}
