package grpcmw

import (
	"strings"
	"testing"
)

// foldEqual decides as strings.EqualFold does, also where its shortcut
// does not apply (non-ASCII first bytes, case folding across byte lengths).
func TestFoldEqualIsEqualFold(t *testing.T) {
	keys := []string{"", "x", "X", "x-correlation-id", "X-Correlation-Id", "x-request-id", "traceparent",
		"Traceparent", "baggage", "@a", "`a", "[", "{", "\u212Aey", "key", "Key", "\u017Fig", "sig", "Sig", "\xff", "\xffa"}
	for _, a := range keys {
		for _, b := range keys {
			if got, want := foldEqual(a, b), strings.EqualFold(a, b); got != want {
				t.Errorf("foldEqual(%q, %q) = %v, want %v", a, b, got, want)
			}
		}
	}
}
