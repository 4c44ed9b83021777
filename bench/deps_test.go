package bench

import (
	_ "github.com/elastic/go-elasticsearch/v8/esutil"
	_ "github.com/getsentry/sentry-go/http"
	_ "github.com/glassbox-obs/glassbox"
	_ "github.com/glassbox-obs/glassbox/log"
	_ "github.com/go-chi/chi/v5/middleware"
	_ "github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	_ "github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	_ "github.com/rs/zerolog"
	_ "go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	_ "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	_ "go.uber.org/zap"
	_ "google.golang.org/grpc/health"
	_ "google.golang.org/grpc/test/bufconn"
)
