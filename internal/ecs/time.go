package ecs

import (
	"math"
	"time"
)

// @timestamp is mapped as date_nanos, which holds nanoseconds since the
// epoch in a signed 64-bit integer: Elasticsearch rejects a document whose
// @timestamp lies outside [MinTimestamp, MaxTimestamp]
// (org.elasticsearch.common.time.DateUtils.toLong).
var (
	MinTimestamp = time.Unix(0, 0).UTC()
	MaxTimestamp = time.Unix(0, math.MaxInt64).UTC() // 2262-04-11T23:47:16.854775807Z
)

// InTimestampRange reports whether t can be a document's @timestamp.
func InTimestampRange(t time.Time) bool {
	const maxSec, maxNsec = math.MaxInt64 / 1_000_000_000, math.MaxInt64 % 1_000_000_000
	s := t.Unix()
	return s >= 0 && (s < maxSec || s == maxSec && t.Nanosecond() <= maxNsec)
}

// ClampTimestamp returns t moved into the @timestamp range: t itself when
// it is in range, else the nearest end. It keeps a document storable even
// when the clock itself is outside the range.
func ClampTimestamp(t time.Time) time.Time {
	switch {
	case InTimestampRange(t):
		return t
	case t.Before(MinTimestamp):
		return MinTimestamp
	}
	return MaxTimestamp
}
