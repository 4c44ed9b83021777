package slo

import (
	"strconv"
	"strings"
	"time"
)

// The metric contract: what glassbox's middleware exposes through the
// OpenTelemetry Prometheus exporter (OTel semantic-convention names with
// dots as underscores, seconds, service.name as a constant label), and so
// what the rules and the dashboard may query.
const (
	// HTTPDuration is the server request-duration histogram; its series
	// are HTTPDuration + "_bucket", "_count" and "_sum".
	HTTPDuration = "http_server_request_duration_seconds"
	// RPCDuration is the gRPC server call-duration histogram.
	RPCDuration = "rpc_server_call_duration_seconds"
)

// Label names of the contract: the attributes of the OpenTelemetry
// semantic conventions (v1.43, the RPC conventions' release candidate)
// with dots as underscores.
const (
	LabelService    = "service_name"
	LabelHTTPMethod = "http_request_method"
	LabelHTTPRoute  = "http_route"
	LabelHTTPStatus = "http_response_status_code"
	LabelErrorType  = "error_type"
	// LabelRPCMethod is rpc.method, the fully-qualified method
	// ("shop.Orders/Get"; "_OTHER" for one the server does not know).
	LabelRPCMethod = "rpc_method"
	// LabelRPCSystem is rpc.system.name ("grpc").
	LabelRPCSystem = "rpc_system_name"
	// LabelRPCStatus is rpc.response.status_code, the gRPC status code's
	// name as the gRPC specification spells it ("OK", "UNAVAILABLE").
	LabelRPCStatus = "rpc_response_status_code"
)

// Metrics returns every series name of the contract.
func Metrics() []string {
	var out []string
	for _, h := range []string{HTTPDuration, RPCDuration} {
		out = append(out, h+"_bucket", h+"_count", h+"_sum")
	}
	return out
}

// Buckets returns the histograms' bucket upper bounds, the boundaries the
// OpenTelemetry semantic conventions advise for request durations. A
// latency SLO's threshold must be one of them: only at a boundary can
// Prometheus count the requests faster than the threshold exactly.
func Buckets() []time.Duration {
	ms := []float64{5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000}
	out := make([]time.Duration, len(ms))
	for i, m := range ms {
		out[i] = time.Duration(m * float64(time.Millisecond))
	}
	return out
}

// FailedGRPCCodes returns the gRPC status codes that count as a server
// failure: Unknown (2), DeadlineExceeded (4), Unimplemented (12),
// Internal (13), Unavailable (14), DataLoss (15). The others (NotFound,
// InvalidArgument, PermissionDenied, ...) are the caller's doing.
func FailedGRPCCodes() []int { return []int{2, 4, 12, 13, 14, 15} }

// FailedGRPCStatuses returns FailedGRPCCodes as the metrics' label
// LabelRPCStatus spells them: the gRPC specification's names.
func FailedGRPCStatuses() []string {
	return []string{"UNKNOWN", "DEADLINE_EXCEEDED", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS"}
}

// failedGRPCRegex is FailedGRPCStatuses as a PromQL label regex.
func failedGRPCRegex() string { return strings.Join(FailedGRPCStatuses(), "|") }

// FailedKQL returns the Kibana query (KQL) that selects the log records of
// failed requests, by the same rule as the availability SLO: an HTTP
// status of 500 or more, or a failing gRPC code.
func FailedKQL() string {
	codes := FailedGRPCCodes()
	s := make([]string, len(codes))
	for i, c := range codes {
		s[i] = strconv.Itoa(c)
	}
	return "http.response.status_code >= 500 or rpc.grpc.status_code:(" + strings.Join(s, " or ") + ")"
}

// failedHTTPRegex matches the HTTP status codes that count as failures.
const failedHTTPRegex = "5.."

// secondsString formats d as Prometheus writes a bucket bound ("0.25",
// "1", "10").
func secondsString(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// RequestsKQL selects, in Kibana, the access-log records the middleware
// writes, one per served HTTP request or gRPC call (not the records
// handlers log, nor a client's "outgoing call completed").
const RequestsKQL = `message:"request completed"`

// SlowKQL returns the Kibana query for requests slower than threshold
// (event.duration is in nanoseconds), the records a latency SLO counts as
// bad.
func SlowKQL(threshold time.Duration) string {
	return "event.duration > " + strconv.FormatInt(int64(threshold), 10)
}
