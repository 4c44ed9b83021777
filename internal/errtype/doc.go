// Package errtype computes error.type: the one name every glassbox output
// (log records, access records, spans, Sentry events) gives the type of an
// error, so that they agree.
//
// Errors that only carry attributes for the error they wrap (what
// errors.With returns) implement Carrier and are looked through, without
// any package matching another's type by its name.
//
//	doc["error.type"] = errtype.Name(err)
package errtype
