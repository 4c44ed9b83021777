// Package errorhandler rate-limits the reporting of background failures,
// so that an exporter failing on every batch cannot flood stderr or a
// user's handler, and never logs through the logger being served.
package errorhandler
