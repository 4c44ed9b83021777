// Package errors provides errors that carry the stack they were created on
// and attributes (key-value pairs) that follow them into log records and
// Sentry events.
//
// It is a drop-in replacement for the standard errors package: Is, As,
// Unwrap and Join are re-exported, and the errors it creates work with
// them. Stacks are captured with one cheap runtime.Callers call and turned
// into file:line only when someone reads them (the log handler, Sentry).
//
// The call most people need:
//
//	return errors.With(errors.Wrap(err, "charge card"), "order_id", id)
package errors
