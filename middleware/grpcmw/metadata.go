package grpcmw

import (
	"strings"

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
