package grpcmw

import (
	"log/slog"

	"github.com/glassbox-obs/glassbox/middleware/internal/instrument"
)

var _ instrument.Scoped = (*callState)(nil)

// MatchRoute reports whether the call is of route, a full gRPC method
// ("/shop.Checkout/Pay"), or of every method of a service named with a
// trailing slash ("/shop.Checkout/").
func (cs *callState) MatchRoute(route string) bool {
	if n := len(route); n > 1 && route[n-1] == '/' {
		return len(cs.fullMethod) > n && cs.fullMethod[:n] == route
	}
	return route == cs.fullMethod
}

// AppendAuditFields appends the RPC fields and the peer of the call.
func (cs *callState) AppendAuditFields(la []slog.Attr) []slog.Attr {
	return cs.appendPeer(appendRPCFields(la, cs.svc, cs.method))
}

// appendPeer appends the peer's host under the HTTP middleware's keys:
// client.ip holds an IP address (ECS type ip), client.address anything
// else.
func (cs *callState) appendPeer(la []slog.Attr) []slog.Attr {
	if cs.peer.ip {
		return append(la, slog.String("client.ip", cs.peer.host))
	} else if cs.peer.host != "" {
		return append(la, slog.String("client.address", cs.peer.host))
	}
	return la
}
