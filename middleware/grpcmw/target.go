package grpcmw

import (
	"strings"
	"sync/atomic"

	"google.golang.org/grpc"

	"github.com/glassbox-obs/glassbox/internal/textsafe"
	"github.com/glassbox-obs/glassbox/middleware/internal/instrument"
)

// target is a connection's target as the client span's server.address and
// server.port.
type target struct {
	raw  string // grpc.ClientConn.Target()
	host string // sanitised; the path of a unix socket
	port int    // 0 when unknown
}

// dnsDefaultPort is the port grpc-go's DNS resolver dials when the target
// names none.
const dnsDefaultPort = 443

// parseTarget reads a gRPC target ("dns:///api.example.com:443",
// "api.example.com:443", "passthrough:///bufnet", "unix:///run/api.sock",
// "unix:api.sock", "xds:///svc") as the server's address and port.
func parseTarget(raw string) target {
	t := target{raw: raw}
	scheme, endpoint := "", raw
	if i := strings.Index(raw, "://"); i > 0 {
		scheme, endpoint = raw[:i], raw[i+3:]
		if scheme == "unix" {
			// unix://[authority]/absolute/path: the path is the address.
			if j := strings.IndexByte(endpoint, '/'); j >= 0 {
				endpoint = endpoint[j:]
			}
		} else if j := strings.IndexByte(endpoint, '/'); j >= 0 {
			endpoint = endpoint[j+1:] // after the resolver's authority
		}
	} else if i := strings.IndexByte(raw, ':'); i > 0 && (raw[:i] == "unix" || raw[:i] == "unix-abstract") {
		scheme, endpoint = raw[:i], raw[i+1:]
	}
	switch scheme {
	case "unix", "unix-abstract":
		t.host = textsafe.Sanitize(endpoint, 256)
		return t
	}
	host, port := instrument.SplitHostPort(endpoint)
	if port == 0 && (scheme == "" || scheme == "dns") && host != "" {
		port = dnsDefaultPort
	}
	t.host, t.port = textsafe.Sanitize(host, 256), port
	return t
}

// targetCache remembers the parsed target of the last connection a client
// interceptor saw: a program dials few connections, each with its own
// interceptors, so one entry nearly always hits.
type targetCache struct{ last atomic.Pointer[target] }

// lookup returns the parsed target of cc.
func (tc *targetCache) lookup(cc *grpc.ClientConn) *target {
	if cc == nil {
		return nil
	}
	raw := cc.Target()
	if t := tc.last.Load(); t != nil && t.raw == raw {
		return t
	}
	t := parseTarget(raw)
	tc.last.Store(&t)
	return &t
}
