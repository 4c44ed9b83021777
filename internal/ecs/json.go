package ecs

import "github.com/glassbox-obs/glassbox/internal/jsonenc"

// AppendJSON appends src, one compact JSON value as encoding/json writes
// it (a map, a struct, a MarshalJSON result), writing every object key
// inside it the way AppendKey does: safe, and unique in its object, at any
// depth ({"":1," ":2} becomes {"_":1,"__2":2}). The value of every key
// redact matches is written as the JSON string redacted instead; redact
// may be nil. src sits under a key of the current object, so no key in it
// is a top-level one.
func (k *Keys) AppendJSON(b, src []byte, redact func(key string) bool, redacted string) []byte {
	type frame struct {
		object bool
		saved  Scope
	}
	var small [8]frame
	stack := small[:0]
	expectKey := false
	for i := 0; i < len(src); {
		switch c := src[i]; c {
		case '{':
			b = append(b, '{')
			stack = append(stack, frame{true, k.Open()})
			expectKey = true
			i++
		case '[':
			b = append(b, '[')
			stack = append(stack, frame{})
			expectKey = false
			i++
		case '}', ']':
			b = append(b, c)
			if n := len(stack); n > 0 {
				if f := stack[n-1]; f.object {
					k.Close(f.saved)
				}
				stack = stack[:n-1]
			}
			expectKey = false
			i++
		case ',':
			if n := len(stack); n > 0 && stack[n-1].object {
				expectKey = true // AppendKey writes the ','
			} else {
				b = append(b, ',')
			}
			i++
		case '"':
			end := stringEnd(src, i)
			if !expectKey {
				b = append(b, src[i:end]...)
				i = end
				continue
			}
			expectKey = false
			key, ok := decodeString(src[i:end])
			if !ok {
				key = string(src[i:end])
			}
			b = k.AppendKey(b, key, false)
			i = end
			if i < len(src) && src[i] == ':' {
				i++
			}
			if redact != nil && redact(key) {
				b = jsonenc.AppendString(b, redacted)
				i = valueEnd(src, i)
			}
		default:
			b = append(b, c)
			i++
		}
	}
	return b
}
