package middleware

import (
	"log/slog"
	"net/http"

	"github.com/glassbox-obs/glassbox/middleware/internal/instrument"
)

var _ instrument.Scoped = (*httpState)(nil)

// MatchRoute reports whether the request is one the ServeMux pattern
// route matches ("GET /orders/{id}"), by net/http's own rules: a mux with
// that pattern alone routes the request to it. The request's route is
// only known once the handler's mux has run, after the decision to debug
// it is due; a more specific pattern of the handler's mux that route
// also covers counts as route. An invalid pattern matches nothing.
func (st *httpState) MatchRoute(route string) (ok bool) {
	defer func() {
		if recover() != nil { // ServeMux.Handle panics on an invalid pattern
			ok = false
		}
	}()
	mux := http.NewServeMux()
	mux.Handle(route, http.NotFoundHandler())
	_, pattern := mux.Handler(st.r)
	return pattern == route
}

// AppendAuditFields appends the method, path and client of the request.
func (st *httpState) AppendAuditFields(la []slog.Attr) []slog.Attr {
	r := st.r
	return append(la,
		slog.String("http.request.method", st.method),
		slog.String("url.path", sanitize(r.URL.Path, maxPathLen)),
		clientField(sanitize(clientIP(st.c, r), maxValueLen)),
	)
}
