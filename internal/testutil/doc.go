// Package testutil holds what the project's tests share: a buffer that
// concurrent writers (a log handler, a server's error log) can write to
// while the test reads it, and a decoder for JSON-lines logs. Only tests
// import it.
package testutil
