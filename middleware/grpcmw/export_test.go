package grpcmw_test

import (
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"

	"github.com/glassbox-obs/glassbox/middleware/grpcmw"
)

func grpcmwLogger(tel *telemetry) logging.Logger { return grpcmw.Logger(tel.opts()...) }
