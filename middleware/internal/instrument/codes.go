package instrument

import "strconv"

// grpcCodeNames are the names of the gRPC status codes, as
// google.golang.org/grpc/codes.Code.String spells them. They are here so
// that HTTP-only programs do not link grpc-go.
var grpcCodeNames = [...]string{
	"OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
	"AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
	"Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss",
	"Unauthenticated",
}

// GRPCCodeName returns the name of a gRPC status code ("NotFound"), or
// "Code(n)" for a code gRPC does not define.
func GRPCCodeName(code uint32) string {
	if int(code) < len(grpcCodeNames) {
		return grpcCodeNames[code]
	}
	return "Code(" + strconv.FormatInt(int64(code), 10) + ")"
}

// grpcServerError reports the codes the RPC semantic conventions count as
// an error of a server span.
func grpcServerError(code uint32) bool {
	switch code {
	case 2, 4, 12, 13, 14, 15: // Unknown, DeadlineExceeded, Unimplemented, Internal, Unavailable, DataLoss
		return true
	}
	return false
}
