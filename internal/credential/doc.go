// Package credential finds the credentials an inbound request carries in
// the places glassbox redacts (headers and gRPC metadata on the redaction
// list, cookies, query parameters such as api_key or a presigned URL's
// signature) and scrubs those values out of free text, such as a panic
// message, that a handler wrote them into.
//
// It is the one implementation behind middleware.Request.Scrub, which the
// middleware's span event and "panic recovered" record and the Sentry
// exporter's exceptions all use, so that every output agrees.
//
//	msg = credential.Scrub(msg, credential.Values(redactor, r.Header, r.URL.RawQuery))
package credential
