//go:build race

package testutil

// RaceEnabled reports whether the tests were built with -race.
const RaceEnabled = true
