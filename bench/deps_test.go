package bench
import (
 _ "github.com/glassbox-obs/glassbox"
 _ "github.com/glassbox-obs/glassbox/log"
 _ "go.uber.org/zap"
 _ "github.com/rs/zerolog"
 _ "github.com/go-chi/chi/v5/middleware"
 _ "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
 _ "go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
 _ "github.com/getsentry/sentry-go/http"
 _ "github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
 _ "github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
 _ "github.com/elastic/go-elasticsearch/v8/esutil"
 _ "google.golang.org/grpc/test/bufconn"
 _ "google.golang.org/grpc/health"
)
