package grpcmw

import (
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"

	"github.com/glassbox-obs/glassbox/middleware/internal/instrument"
)

// skipGRPC reports whether the full gRPC method ("/pkg.Service/Method")
// gets no span and no access log: listed in WithSkipGRPCMethods (by
// method or service), or rejected by the WithFilter function.
func skipGRPC(c *instrument.Config, fullMethod string) bool {
	for _, m := range c.SkipMethods {
		if m == fullMethod {
			return true
		}
	}
	if len(c.SkipServices) > 0 {
		svc, _ := splitGRPCMethod(fullMethod)
		for _, s := range c.SkipServices {
			if s == svc {
				return true
			}
		}
	}
	if c.Filter != nil {
		req := instrument.Request{Protocol: "grpc", Method: fullMethod, Route: fullMethod}
		return !c.Filter(&req)
	}
	return false
}

// splitGRPCMethod splits "/pkg.Service/Method" into "pkg.Service" and
// "Method". A malformed name yields ("", name without the leading slash).
func splitGRPCMethod(fullMethod string) (service, method string) {
	s := strings.TrimPrefix(fullMethod, "/")
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[:i], s[i+1:]
	}
	return "", s
}

// appendRequestMetadata appends to dst the span attributes
// rpc.grpc.request.metadata.<key> of the WithRequestHeaders keys that md
// holds, with the values Config.CapturedValues returns, as long as dst has
// fewer than limit attributes.
func appendRequestMetadata(c *instrument.Config, dst []attribute.KeyValue, md propagation.ValuesGetter, limit int) []attribute.KeyValue {
	for i := range c.Headers {
		if len(dst) >= limit {
			break
		}
		hc := &c.Headers[i]
		if vals := md.Values(hc.MDName); len(vals) > 0 {
			dst = append(dst, attribute.StringSlice(hc.MDAttrKey, c.CapturedValues(hc.MDName, vals)))
		}
	}
	return dst
}
