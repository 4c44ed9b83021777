package grpcmw

import (
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/glassbox-obs/glassbox/middleware/internal/instrument"
)

// error.type of a gRPC failure is the code's name as grpc-go spells it;
// instrument keeps its own table so that HTTP-only programs do not link
// grpc-go.
func TestGRPCCodeNamesMatchGRPC(t *testing.T) {
	for c := codes.Code(0); c < 40; c++ {
		if got, want := instrument.GRPCCodeName(uint32(c)), c.String(); got != want {
			t.Errorf("code %d: got %q, want %q", c, got, want)
		}
	}
}
