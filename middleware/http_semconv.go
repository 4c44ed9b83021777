package middleware

import (
	"log/slog"
	"net/http"

	"github.com/glassbox-obs/glassbox/middleware/internal/instrument"
)

// clientField is client.ip when the client address is an IP address (ECS
// maps client.ip as type ip: anything else would get the document
// rejected), else client.address (a unix socket, a test's fake address).
func clientField(addr string) slog.Attr {
	// Elasticsearch's ip type takes no IPv6 zone ("fe80::1%eth0").
	if a := instrument.ParseAddr(addr); a.IsValid() && a.Zone() == "" {
		return slog.String("client.ip", addr)
	}
	return slog.String("client.address", addr)
}

// normMethod returns the method as the HTTP semantic conventions want it:
// a known method, or "_OTHER".
func normMethod(m string) (string, bool) {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodHead,
		http.MethodPatch, http.MethodOptions, http.MethodConnect, http.MethodTrace, "QUERY":
		return m, true
	}
	return "_OTHER", false
}

func scheme(r *http.Request) string { return instrument.URLScheme(r) }

func protoVersion(r *http.Request) string { return instrument.ProtocolVersion(r) }
