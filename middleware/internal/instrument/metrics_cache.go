package instrument

import (
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// maxCachedSets bounds each attribute-set cache: the OTel SDK's default
// cardinality limit, past which it folds new sets into one overflow
// series anyway. The keys of the server caches are bounded by the program
// (routes, methods, status codes and error types it produces); the
// clients' by the hosts it calls. Past the bound, a new combination is
// still recorded, its set built per request. An insert copies the map (a
// new combination costs at most 2000 entries copied, once), so that a
// lookup is one atomic load and a map read.
const maxCachedSets = 2000

// attrEntry is one cached attribute set, as the options the instruments
// take: made once, shared by every request with the same outcome.
type attrEntry struct {
	set    attribute.Set
	record []metric.RecordOption
	add    []metric.AddOption
}

func newAttrEntry(set attribute.Set) *attrEntry {
	o := metric.WithAttributeSet(set)
	return &attrEntry{set: set, record: []metric.RecordOption{o}, add: []metric.AddOption{o}}
}

// attrCache maps a key to its attribute set. Reads are lock-free (one
// atomic load and a map lookup, no allocation); an insert copies the map
// under a mutex, which the bound keeps rare and cheap.
type attrCache[K comparable] struct {
	m  atomic.Pointer[map[K]*attrEntry]
	mu sync.Mutex
	// names hands out rpc.method values to build, under mu.
	names methodNames
}

// setBuilder makes the attribute set of a key; names resolves rpc.method.
type setBuilder[K comparable] func(k K, names *methodNames) attribute.Set

// get returns the entry of k, made with build on first use. build runs
// under the cache's lock.
func (c *attrCache[K]) get(k K, build setBuilder[K]) *attrEntry {
	if m := c.m.Load(); m != nil {
		if e, ok := (*m)[k]; ok {
			return e
		}
	}
	return c.insert(k, build)
}

func (c *attrCache[K]) insert(k K, build setBuilder[K]) *attrEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.m.Load()
	if old != nil {
		if e, ok := (*old)[k]; ok {
			return e
		}
	}
	e := newAttrEntry(build(k, &c.names))
	if old != nil && len(*old) >= maxCachedSets {
		return e
	}
	next := make(map[K]*attrEntry, 1+lenOf(old))
	if old != nil {
		for k, v := range *old {
			next[k] = v
		}
	}
	next[k] = e
	c.m.Store(&next)
	return e
}

// len returns the number of cached sets.
func (c *attrCache[K]) len() int { return lenOf(c.m.Load()) }

func lenOf[K comparable](m *map[K]*attrEntry) int {
	if m == nil {
		return 0
	}
	return len(*m)
}

// maxRPCMethods bounds the distinct values of rpc.method a server or
// client records; later ones are recorded as "_OTHER". A server built
// with grpc-go sees only its registered methods (grpc-go answers others
// without running interceptors) unless it has an UnknownServiceHandler,
// such as a proxy, which may see any name a client sends.
const maxRPCMethods = 1000

// methodNames hands out rpc.method values: the sanitised name of the
// first maxRPCMethods distinct methods, then "_OTHER". Its cache's lock
// guards it.
type methodNames struct {
	seen map[string]string
}

func (n *methodNames) name(raw string, sanitize func(string) string) string {
	if v, ok := n.seen[raw]; ok {
		return v
	}
	if len(n.seen) >= maxRPCMethods {
		return otherValue
	}
	if n.seen == nil {
		n.seen = make(map[string]string)
	}
	v := sanitize(raw)
	n.seen[raw] = v
	return v
}

// otherValue is the conventions' value for a method they cannot name.
const otherValue = "_OTHER"
