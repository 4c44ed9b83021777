package grpcmw

import (
	"context"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/otel/propagation"
	"google.golang.org/grpc/metadata"
)

// mdCarrier adapts gRPC metadata to the OTel carrier interfaces. Keys are
// lowercase, as gRPC requires.
type mdCarrier metadata.MD

var (
	_ propagation.TextMapCarrier = mdCarrier(nil)
	_ propagation.ValuesGetter   = mdCarrier(nil)
)

func (c mdCarrier) Get(key string) string {
	vals := metadata.MD(c).Get(key)
	if len(vals) == 0 {
		return ""
	}
	return vals[0]
}

func (c mdCarrier) Values(key string) []string { return metadata.MD(c).Get(key) }

func (c mdCarrier) Set(key, value string) { metadata.MD(c).Set(strings.ToLower(key), value) }

func (c mdCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

// incomingCarrier reads the incoming metadata of a server context key by
// key, without copying the whole metadata map (which
// metadata.FromIncomingContext does on every call). Keys match without
// regard to case, and without the allocation lowercasing a canonical HTTP
// name ("X-Correlation-Id") would cost. It is read-only.
//
// Once instrument.Config.Inbound has read the correlation ID itself, it
// sets hide (HideCorrelationKeys) so that the propagator does not search
// for it again; ShowCorrelationKeys undoes that once the propagator is
// done, so that the WithRequestHeaders capture sees every key.
type incomingCarrier struct {
	ctx  context.Context
	hide []string // keys reported absent
	// The last lookup, and the "baggage" one: a miss walks the whole
	// context chain and then the whole metadata map, and the baggage
	// limit check reads "baggage" before the propagator does (after
	// "traceparent" and "tracestate").
	lastKey  string
	lastVals []string
	bagRead  bool
	bagVals  []string
}

var (
	_ propagation.TextMapCarrier = (*incomingCarrier)(nil)
	_ propagation.ValuesGetter   = (*incomingCarrier)(nil)
)

// HideCorrelationKeys makes the carrier report keys absent from now on.
func (c *incomingCarrier) HideCorrelationKeys(keys []string) { c.hide = keys }

// ShowCorrelationKeys makes the carrier report the keys hidden by
// HideCorrelationKeys again.
func (c *incomingCarrier) ShowCorrelationKeys() { c.hide = nil }

func (c *incomingCarrier) Get(key string) string {
	vals := c.Values(key)
	if len(vals) == 0 {
		return ""
	}
	return vals[0]
}

func (c *incomingCarrier) Values(key string) []string {
	for _, h := range c.hide {
		if foldEqual(h, key) {
			return nil
		}
	}
	if key == c.lastKey && key != "" {
		return c.lastVals
	}
	if key == "baggage" && c.bagRead {
		return c.bagVals
	}
	// An exact match first (gRPC keys are lowercase), then a
	// case-insensitive one.
	vals := metadata.ValueFromIncomingContext(c.ctx, key)
	c.lastKey, c.lastVals = key, vals
	if key == "baggage" {
		c.bagRead, c.bagVals = true, vals
	}
	return vals
}

func (c *incomingCarrier) Set(string, string) {}

func (c *incomingCarrier) Keys() []string {
	md, _ := metadata.FromIncomingContext(c.ctx)
	return mdCarrier(md).Keys()
}

// foldEqual is strings.EqualFold(a, b), deciding the common case, keys
// whose first bytes are ASCII and differ, without the call: two ASCII
// bytes that differ in more than the case bit are not equal under folding
// (a letter and its other case differ only in 0x20).
func foldEqual(a, b string) bool {
	if a != "" && b != "" && a[0]|b[0] < utf8.RuneSelf && a[0]|0x20 != b[0]|0x20 {
		return false
	}
	return strings.EqualFold(a, b)
}

// incomingMetadata is the call's incoming metadata, for
// instrument.Request.Scrub (see Config.Bind).
func incomingMetadata(ctx context.Context) map[string][]string {
	md, _ := metadata.FromIncomingContext(ctx)
	return md
}
