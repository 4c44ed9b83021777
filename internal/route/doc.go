// Package route turns the pattern net/http's ServeMux matched a request
// with into the request's route: the http.route of spans and access
// records, and the route and transaction of Sentry events. The middleware
// and the Sentry exporter both call it, so the two never disagree.
//
//	route.FromPattern(r.Pattern) // "GET example.com/users/{id}" -> "/users/{id}"
package route
