package instrument

import (
	"strconv"
	"testing"

	"go.opentelemetry.io/otel/attribute"
)

// TestAttrCacheBounded: past maxCachedSets distinct keys the cache stops
// growing, and a key it does not hold still gets its own set.
func TestAttrCacheBounded(t *testing.T) {
	var c attrCache[httpServerKey]
	for i := range maxCachedSets + 100 {
		k := httpServerKey{method: "GET", route: "/r" + strconv.Itoa(i), status: 200, scheme: "http", version: "1.1"}
		e := c.get(k, httpServerSet)
		if v, _ := e.set.Value(attribute.Key("http.route")); v.AsString() != k.route {
			t.Fatalf("key %d: got route %q, want %q", i, v.AsString(), k.route)
		}
	}
	if n := c.len(); n != maxCachedSets {
		t.Errorf("got %d cached sets, want the bound, %d", n, maxCachedSets)
	}
	first := httpServerKey{method: "GET", route: "/r0", status: 200, scheme: "http", version: "1.1"}
	if a, b := c.get(first, httpServerSet), c.get(first, httpServerSet); a != b {
		t.Error("a cached key got a new entry")
	}
}
