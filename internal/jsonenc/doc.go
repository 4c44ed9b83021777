// Package jsonenc appends JSON tokens to byte slices without reflection or
// allocation, in the style of zerolog's internal/json. Every function takes
// a destination slice and returns the extended slice.
//
// Strings are always written as valid UTF-8 on one line: control
// characters (including ESC, so ANSI sequences are inert), '"', '\\',
// U+2028 and U+2029 are escaped, and invalid UTF-8 bytes become U+FFFD,
// decoding exactly as encoding/json's output does. The encoding is
// canonical: two strings a JSON parser decodes as equal are encoded as
// equal bytes (each rune has one form: the escapes above, or itself), so
// encoded keys can be compared byte for byte.
package jsonenc
