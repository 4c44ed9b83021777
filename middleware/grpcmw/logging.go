package grpcmw

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"google.golang.org/grpc/codes"

	"github.com/glassbox-obs/glassbox/internal/textsafe"
	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/middleware/internal/instrument"
)

// Messages of the records: the server's access-log record has the same
// message as HTTP's; a client's record of an outgoing call another one.
const (
	accessMessage = instrument.AccessMessage
	clientMessage = "outgoing call completed"
)

// Logger returns a go-grpc-middleware logging.Logger that writes through
// the configured slog logger (WithLogger), for programs that want that
// package's logging interceptor (for example its payload logging) in
// addition to glassbox's access-log record. Its field names are mapped to
// ECS and OTel names (grpc.service -> rpc.service, grpc.code ->
// rpc.grpc.status_code, peer.address -> client.ip or client.address
// without the port, ...), string values sanitised, and its "finished
// call" message becomes "request completed".
//
//	logging.UnaryServerInterceptor(grpcmw.Logger(opts...))
func Logger(opts ...middleware.Option) logging.Logger {
	return loggerFor(instrument.New(opts), accessMessage)
}

func loggerFor(c *instrument.Config, finished string) logging.Logger {
	return logging.LoggerFunc(func(ctx context.Context, lvl logging.Level, msg string, fields ...any) {
		l := c.Logger()
		level := slog.Level(lvl)
		if !l.Enabled(ctx, level) {
			return
		}
		if msg == "finished call" {
			msg = finished
		}
		var buf [16]slog.Attr
		attrs := buf[:0]
		for i := 0; i+1 < len(fields); i += 2 {
			k, ok := fields[i].(string)
			if !ok {
				continue
			}
			if a, keep := mapField(k, fields[i+1]); keep {
				attrs = append(attrs, a)
			}
		}
		rec := slog.NewRecord(time.Now(), level, msg, 0)
		rec.AddAttrs(attrs...)
		_ = l.Handler().Handle(ctx, rec)
	})
}

func mapField(k string, v any) (slog.Attr, bool) {
	switch k {
	case "protocol":
		return slog.String("rpc.system", "grpc"), true
	case "grpc.component", "grpc.start_time":
		return slog.Attr{}, false
	case "grpc.service":
		return slog.String("rpc.service", str(v)), true
	case "grpc.method":
		return slog.String("rpc.method", str(v)), true
	case "peer.address":
		// "host:port": the access record's keys and the host alone.
		s, _ := v.(string)
		if p := newPeerInfo(s); p.ip {
			return slog.String("client.ip", p.host), true
		} else if p.host != "" {
			return slog.String("client.address", p.host), true
		}
		return slog.Attr{}, false
	case "grpc.code":
		if s, ok := v.(string); ok {
			return slog.Int("rpc.grpc.status_code", int(codeByName(s))), true
		}
	case "grpc.error":
		return slog.String("error.message", textsafe.Sanitize(str(v), 4096)), true
	case "event.duration":
		if d, ok := v.(time.Duration); ok {
			return slog.Duration(k, d), true
		}
	}
	switch v := v.(type) {
	case string:
		return slog.String(k, textsafe.Sanitize(v, 1024)), true
	case int:
		return slog.Int(k, v), true
	case int64:
		return slog.Int64(k, v), true
	}
	return slog.Any(k, v), true
}

func str(v any) string {
	if s, ok := v.(string); ok {
		return textsafe.Sanitize(s, 1024)
	}
	return ""
}

func codeByName(s string) codes.Code {
	for c := codes.OK; c <= codes.Unauthenticated; c++ {
		if c.String() == s {
			return c
		}
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 0 {
		return codes.Code(n)
	}
	return codes.Unknown
}
