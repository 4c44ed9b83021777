// Package textsafe decides which characters may reach a log line, a span
// attribute or a console raw, and replaces the others. It is the one
// classification glassbox uses for request-controlled text: C0 and C1
// controls, DEL, the Unicode line and paragraph separators, bidirectional
// controls, the byte-order mark and invalid UTF-8 are unsafe.
//
// Most callers need Sanitize(s, max); encoders that escape character by
// character use UnsafeRune.
package textsafe
