package instrument

import (
	"net/http"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"

	"github.com/glassbox-obs/glassbox/internal/textsafe"
)

// The RPC attributes of the semantic conventions v1.43 that v1.37 (the
// version of the spans' attributes) does not have.
const (
	attrRPCSystemName = attribute.Key("rpc.system.name")
	attrRPCMethod     = attribute.Key("rpc.method")
	attrRPCStatus     = attribute.Key("rpc.response.status_code")
)

// URLScheme returns url.scheme of an inbound request: https when it came
// over TLS.
func URLScheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// ProtocolVersion returns network.protocol.version of a request or
// response: "1.0", "1.1", "2" or "3".
func ProtocolVersion(r *http.Request) string { return ProtoVersion(r.ProtoMajor, r.ProtoMinor) }

// ProtoVersion returns network.protocol.version of an HTTP version.
func ProtoVersion(major, minor int) string {
	switch {
	case major == 2:
		return "2"
	case major == 3:
		return "3"
	case major == 1 && minor == 0:
		return "1.0"
	}
	return "1.1"
}

// httpServerKey is what distinguishes the attribute sets of
// http.server.request.duration. Every field is bounded by the program,
// never by the client: the method is a known one or "_OTHER", the route
// a ServeMux pattern (none when no pattern matched, so a scanner's
// random paths all share one set).
type httpServerKey struct {
	method, route   string
	status          int
	errorType       string
	scheme, version string
}

func httpServerSet(k httpServerKey, _ *methodNames) attribute.Set {
	kvs := make([]attribute.KeyValue, 0, 6)
	kvs = append(kvs,
		semconv.HTTPRequestMethodKey.String(k.method),
		semconv.URLSchemeKey.String(k.scheme),
		semconv.NetworkProtocolVersionKey.String(k.version),
	)
	if k.status != 0 {
		kvs = append(kvs, semconv.HTTPResponseStatusCodeKey.Int(k.status))
	}
	if k.route != "" {
		kvs = append(kvs, semconv.HTTPRouteKey.String(k.route))
	}
	if k.errorType != "" {
		kvs = append(kvs, semconv.ErrorTypeKey.String(k.errorType))
	}
	return attribute.NewSet(kvs...)
}

// httpActiveKey distinguishes the sets of http.server.active_requests:
// only what is known when a request starts.
type httpActiveKey struct{ method, scheme string }

func httpActiveSet(k httpActiveKey, _ *methodNames) attribute.Set {
	return attribute.NewSet(semconv.HTTPRequestMethodKey.String(k.method), semconv.URLSchemeKey.String(k.scheme))
}

// rpcKey distinguishes the sets of rpc.server.call.duration (method is
// the full method, "/pkg.Service/Method") and of
// rpc.client.call.duration (service and method apart, sanitised, with
// the server's host and port).
type rpcKey struct {
	service   string
	method    string
	code      uint32
	errorType string
	host      string
	port      int
}

func rpcServerSet(k rpcKey, names *methodNames) attribute.Set {
	method := names.name(k.method, func(raw string) string {
		return textsafe.Sanitize(strings.TrimPrefix(raw, "/"), 512)
	})
	return rpcSet(method, k, nil)
}

func rpcClientSet(k rpcKey, names *methodNames) attribute.Set {
	method := k.method
	if k.service != "" {
		method = k.service + "/" + k.method
	}
	method = names.name(method, func(s string) string { return s }) // sanitised by the caller
	var kvs [2]attribute.KeyValue
	extra := kvs[:0]
	if k.host != "" {
		extra = append(extra, semconv.ServerAddressKey.String(k.host))
		if k.port > 0 {
			extra = append(extra, semconv.ServerPortKey.Int(k.port))
		}
	}
	return rpcSet(method, k, extra)
}

func rpcSet(method string, k rpcKey, extra []attribute.KeyValue) attribute.Set {
	kvs := make([]attribute.KeyValue, 0, 4+len(extra))
	kvs = append(kvs,
		attrRPCSystemName.String("grpc"),
		attrRPCMethod.String(method),
		attrRPCStatus.String(GRPCStatusName(k.code)),
	)
	if k.errorType != "" {
		kvs = append(kvs, semconv.ErrorTypeKey.String(k.errorType))
	}
	return attribute.NewSet(append(kvs, extra...)...)
}

// grpcStatusNames are the names of the gRPC status codes as the gRPC
// specification spells them, the values of rpc.response.status_code.
var grpcStatusNames = [...]string{
	"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
	"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
	"ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
	"UNAUTHENTICATED",
}

// GRPCStatusName returns rpc.response.status_code of a gRPC status code:
// "DEADLINE_EXCEEDED", or the number for a code gRPC does not define.
func GRPCStatusName(code uint32) string {
	if int(code) < len(grpcStatusNames) {
		return grpcStatusNames[code]
	}
	return strconv.FormatUint(uint64(code), 10)
}

// httpClientKey distinguishes the sets of http.client.request.duration.
type httpClientKey struct {
	method, host string
	port, status int
	errorType    string
	scheme       string
	version      string // "" when no response came
}

func httpClientSet(k httpClientKey, _ *methodNames) attribute.Set {
	kvs := make([]attribute.KeyValue, 0, 7)
	kvs = append(kvs, semconv.HTTPRequestMethodKey.String(k.method), semconv.ServerAddressKey.String(k.host))
	if k.port > 0 {
		kvs = append(kvs, semconv.ServerPortKey.Int(k.port))
	}
	if k.scheme != "" {
		kvs = append(kvs, semconv.URLSchemeKey.String(k.scheme))
	}
	if k.status != 0 {
		kvs = append(kvs, semconv.HTTPResponseStatusCodeKey.Int(k.status))
	}
	if k.version != "" {
		kvs = append(kvs, semconv.NetworkProtocolVersionKey.String(k.version))
	}
	if k.errorType != "" {
		kvs = append(kvs, semconv.ErrorTypeKey.String(k.errorType))
	}
	return attribute.NewSet(kvs...)
}
