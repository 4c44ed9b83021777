package kibana

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Rison is the compact JSON-like notation Kibana keeps its URL state in
// (_g, _a). These are glassbox's own encoder and decoder; they follow the
// grammar of the rison library Kibana uses:
//
//	value  = object | array | string | number | !t | !f | !n
//	object = "(" [ key ":" value { "," key ":" value } ] ")"
//	array  = "!(" [ value { "," value } ] ")"
//	string = id | "'" { char | "!!" | "!'" } "'"
//	id     = a first character outside "-0123456789" + notIDChars,
//	         then characters outside notIDChars
//
// Objects are encoded with their keys sorted, as Kibana's encoder does, so
// one value has one encoding.

// risonObject is an object whose keys keep the order they were given in;
// the encoder sorts them.
type risonObject []risonField

type risonField struct {
	key string
	val any
}

// notIDChars may not appear in an unquoted string.
const notIDChars = " '!:(),*@$"

// isRisonID reports whether s can be written without quotes.
func isRisonID(s string) bool {
	if s == "" || strings.IndexByte("-0123456789", s[0]) >= 0 {
		return false
	}
	for _, r := range s {
		// Controls, quotes and anything a URL or a reader would stumble
		// over are quoted even where the grammar would allow them.
		if r < 0x21 || r == 0x7f || r == '"' || r == '\\' || strings.ContainsRune(notIDChars, r) || r == utf8.RuneError {
			return false
		}
	}
	return true
}

// appendRisonString appends s as a rison string: bare when it is an id,
// otherwise quoted with ! and ' escaped by !.
func appendRisonString(b []byte, s string) []byte {
	if isRisonID(s) {
		return append(b, s...)
	}
	b = append(b, '\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '!', '\'':
			b = append(b, '!', c)
		default:
			b = append(b, c)
		}
	}
	return append(b, '\'')
}

// risonEncode encodes v, which may be nil, a bool, a string, an int, an
// int64, a float64, a []any, a []string, a map[string]any or a
// risonObject (and nestings of them).
func risonEncode(v any) (string, error) {
	b, err := appendRison(nil, v)
	return string(b), err
}

func appendRison(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "!n"...), nil
	case bool:
		if v {
			return append(b, "!t"...), nil
		}
		return append(b, "!f"...), nil
	case string:
		return appendRisonString(b, v), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return b, fmt.Errorf("rison: cannot encode %v", v)
		}
		return appendRisonNumber(b, v), nil
	case []string:
		b = append(b, "!("...)
		for i, s := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendRisonString(b, s)
		}
		return append(b, ')'), nil
	case []any:
		b = append(b, "!("...)
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendRison(b, e); err != nil {
				return b, err
			}
		}
		return append(b, ')'), nil
	case map[string]any:
		obj := make(risonObject, 0, len(v))
		for k, e := range v {
			obj = append(obj, risonField{k, e})
		}
		return appendRison(b, obj)
	case risonObject:
		fields := append(risonObject(nil), v...)
		sort.SliceStable(fields, func(i, j int) bool { return fields[i].key < fields[j].key })
		b = append(b, '(')
		for i, f := range fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendRisonString(b, f.key)
			b = append(b, ':')
			var err error
			if b, err = appendRison(b, f.val); err != nil {
				return b, err
			}
		}
		return append(b, ')'), nil
	}
	return b, fmt.Errorf("rison: cannot encode %T", v)
}

// appendRisonNumber writes integers without a fraction and others in the
// shortest form that reads back the same, with a lower-case exponent and
// no "+".
func appendRisonNumber(b []byte, f float64) []byte {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.AppendInt(b, int64(f), 10)
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	s = strings.Replace(s, "e+", "e", 1)
	return append(b, s...)
}

// errRison is wrapped by every decoding error.
var errRison = errors.New("rison")

// risonDecode decodes one rison value that spans all of s. Objects become
// map[string]any, arrays []any, numbers float64.
func risonDecode(s string) (any, error) {
	d := risonDecoder{s: s}
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	if d.i != len(s) {
		return nil, d.errorf("extra characters after the value")
	}
	return v, nil
}

type risonDecoder struct {
	s string
	i int
}

// maxRisonDepth bounds nesting so hostile input cannot exhaust the stack.
const maxRisonDepth = 100

func (d *risonDecoder) errorf(format string, a ...any) error {
	return fmt.Errorf("%w: at offset %d: %s", errRison, d.i, fmt.Sprintf(format, a...))
}

func (d *risonDecoder) value(depth int) (any, error) {
	if depth > maxRisonDepth {
		return nil, d.errorf("nested deeper than %d", maxRisonDepth)
	}
	if d.i >= len(d.s) {
		return nil, d.errorf("unexpected end")
	}
	switch c := d.s[d.i]; {
	case c == '(':
		return d.object(depth)
	case c == '!':
		if d.i+1 >= len(d.s) {
			return nil, d.errorf("unexpected end after !")
		}
		d.i += 2
		switch d.s[d.i-1] {
		case 't':
			return true, nil
		case 'f':
			return false, nil
		case 'n':
			return nil, nil
		case '(':
			return d.array(depth)
		}
		d.i -= 2
		return nil, d.errorf("unknown literal !%c", d.s[d.i+1])
	case c == '\'':
		return d.quoted()
	case c == '-' || '0' <= c && c <= '9':
		return d.number()
	}
	return d.id()
}

func (d *risonDecoder) object(depth int) (any, error) {
	d.i++ // (
	m := map[string]any{}
	if d.i < len(d.s) && d.s[d.i] == ')' {
		d.i++
		return m, nil
	}
	for {
		var key string
		var err error
		if d.i < len(d.s) && d.s[d.i] == '\'' {
			key, err = d.quoted()
		} else {
			key, err = d.id()
		}
		if err != nil {
			return nil, err
		}
		if d.i >= len(d.s) || d.s[d.i] != ':' {
			return nil, d.errorf("expected : after key %q", key)
		}
		d.i++
		if _, dup := m[key]; dup {
			return nil, d.errorf("duplicate key %q", key)
		}
		if m[key], err = d.value(depth + 1); err != nil {
			return nil, err
		}
		if d.i >= len(d.s) {
			return nil, d.errorf("unterminated object")
		}
		switch d.s[d.i] {
		case ',':
			d.i++
		case ')':
			d.i++
			return m, nil
		default:
			return nil, d.errorf("expected , or ) in object")
		}
	}
}

func (d *risonDecoder) array(depth int) (any, error) {
	a := []any{}
	if d.i < len(d.s) && d.s[d.i] == ')' {
		d.i++
		return a, nil
	}
	for {
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		if d.i >= len(d.s) {
			return nil, d.errorf("unterminated array")
		}
		switch d.s[d.i] {
		case ',':
			d.i++
		case ')':
			d.i++
			return a, nil
		default:
			return nil, d.errorf("expected , or ) in array")
		}
	}
}

func (d *risonDecoder) quoted() (string, error) {
	d.i++ // '
	var b strings.Builder
	for d.i < len(d.s) {
		c := d.s[d.i]
		switch c {
		case '\'':
			d.i++
			return b.String(), nil
		case '!':
			if d.i+1 >= len(d.s) || (d.s[d.i+1] != '!' && d.s[d.i+1] != '\'') {
				return "", d.errorf("invalid escape in string")
			}
			b.WriteByte(d.s[d.i+1])
			d.i += 2
		default:
			b.WriteByte(c)
			d.i++
		}
	}
	return "", d.errorf("unterminated string")
}

func (d *risonDecoder) id() (string, error) {
	start := d.i
	for d.i < len(d.s) && strings.IndexByte(notIDChars, d.s[d.i]) < 0 {
		d.i++
	}
	if d.i == start {
		if d.i >= len(d.s) {
			return "", d.errorf("unexpected end")
		}
		return "", d.errorf("unexpected %q", d.s[d.i:d.i+1])
	}
	return d.s[start:d.i], nil
}

func (d *risonDecoder) number() (any, error) {
	start := d.i
	for d.i < len(d.s) && strings.IndexByte("-+0123456789.eE", d.s[d.i]) >= 0 {
		d.i++
	}
	text := d.s[start:d.i]
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		d.i = start
		return nil, d.errorf("invalid number %q", text)
	}
	return f, nil
}
