package ecs

import (
	"encoding/json"
	"unsafe"
)

// stringEnd returns the index just past the JSON string that starts with
// the '"' at src[i], or len(src) when it is not terminated.
func stringEnd(src []byte, i int) int {
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(src)
}

// valueEnd returns the index just past the JSON value that starts at
// src[i]: a string, an object or array (nesting counted, strings
// skipped), or a scalar (up to a delimiter or white space).
func valueEnd(src []byte, i int) int {
	if i >= len(src) {
		return i
	}
	switch src[i] {
	case '"':
		return stringEnd(src, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(src); j++ {
			switch src[j] {
			case '"':
				j = stringEnd(src, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(src)
	}
	j := i
	for j < len(src) {
		switch src[j] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return j
		}
		j++
	}
	return j
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON white space.
func skipSpace(src []byte, i int) int {
	for i < len(src) {
		switch src[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// decodeString returns the text of the JSON string token s (quotes
// included); ok is false when s is not one. Without escapes it shares s's
// memory: the result is valid while s is unchanged.
func decodeString(s []byte) (string, bool) {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return "", false
	}
	plain := true
	for _, c := range s[1 : len(s)-1] {
		if c == '\\' || c == '"' || c < 0x20 {
			plain = false
			break
		}
	}
	if plain {
		return unsafe.String(unsafe.SliceData(s[1:]), len(s)-2), true
	}
	var out string
	if json.Unmarshal(s, &out) != nil {
		return "", false
	}
	return out, true
}
