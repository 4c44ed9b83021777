package otlp

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"

	"github.com/glassbox-obs/glassbox/internal/ecs"
)

// How ECS document fields become parts of an OTel log record. Fields that
// are the record's own (time, level, message, trace and span IDs) or the
// resource's (service, host) are not repeated as attributes; error fields
// take their OTel semantic-convention names; everything else, including
// correlation.id and the user's attributes, is an attribute of the same
// name, objects becoming maps.
var (
	skipFields = map[string]bool{
		ecs.Timestamp:           true,
		ecs.LogLevel:            true,
		ecs.Message:             true,
		ecs.ECSVersion:          true,
		ecs.ServiceName:         true,
		ecs.ServiceVersion:      true,
		ecs.ServiceEnvironment:  true,
		ecs.HostName:            true,
		ecs.EventDataset:        true,
		ecs.DataStreamType:      true,
		ecs.DataStreamDataset:   true,
		ecs.DataStreamNamespace: true,
		ecs.TraceID:             true,
		ecs.SpanID:              true,
	}
	renameFields = map[string]string{
		ecs.ErrorMessage:    "exception.message",
		ecs.ErrorType:       "exception.type",
		ecs.ErrorStackTrace: "exception.stacktrace",
	}
)

// maxDepth bounds nesting; the log handler never writes deeper documents.
const maxDepth = 64

var errSyntax = errors.New("otlp: malformed ECS document")

// decodeDoc turns an ECS JSON document into the record's message and its
// attributes (appended to attrs). Strings without escapes share doc's
// memory.
func decodeDoc(doc string, attrs []attribute.KeyValue) (msg string, out []attribute.KeyValue, err error) {
	d := decoder{s: doc}
	d.ws()
	if !d.eat('{') {
		return "", attrs, errSyntax
	}
	d.ws()
	if d.eat('}') {
		return "", attrs, nil
	}
	for {
		d.ws()
		key, err := d.str()
		if err != nil {
			return "", attrs, err
		}
		d.ws()
		if !d.eat(':') {
			return "", attrs, errSyntax
		}
		d.ws()
		if key == "message" && d.peek() == '"' {
			if msg, err = d.str(); err != nil {
				return "", attrs, err
			}
		} else {
			v, ok, err := d.value(1)
			if err != nil {
				return "", attrs, err
			}
			if ok && !skipFields[key] {
				if k, renamed := renameFields[key]; renamed {
					key = k
				}
				attrs = append(attrs, attribute.KeyValue{Key: attribute.Key(key), Value: v})
			}
		}
		d.ws()
		if d.eat(',') {
			continue
		}
		if d.eat('}') {
			return msg, attrs, nil
		}
		return "", attrs, errSyntax
	}
}

type decoder struct {
	s string
	i int
}

func (d *decoder) ws() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *decoder) peek() byte {
	if d.i < len(d.s) {
		return d.s[d.i]
	}
	return 0
}

func (d *decoder) eat(c byte) bool {
	if d.i < len(d.s) && d.s[d.i] == c {
		d.i++
		return true
	}
	return false
}

// value parses one JSON value; ok is false for null.
func (d *decoder) value(depth int) (v attribute.Value, ok bool, err error) {
	if depth > maxDepth {
		return v, false, errSyntax
	}
	switch c := d.peek(); {
	case c == '"':
		s, err := d.str()
		return attribute.StringValue(s), err == nil, err
	case c == '{':
		d.i++
		var kvs []attribute.KeyValue
		d.ws()
		if d.eat('}') {
			return attribute.MapValue(), true, nil
		}
		for {
			d.ws()
			k, err := d.str()
			if err != nil {
				return v, false, err
			}
			d.ws()
			if !d.eat(':') {
				return v, false, errSyntax
			}
			d.ws()
			ev, ok, err := d.value(depth + 1)
			if err != nil {
				return v, false, err
			}
			if ok {
				kvs = append(kvs, attribute.KeyValue{Key: attribute.Key(k), Value: ev})
			}
			d.ws()
			if d.eat(',') {
				continue
			}
			if d.eat('}') {
				return attribute.MapValue(kvs...), true, nil
			}
			return v, false, errSyntax
		}
	case c == '[':
		d.i++
		var vs []attribute.Value
		d.ws()
		if d.eat(']') {
			return attribute.SliceValue(), true, nil
		}
		for {
			d.ws()
			ev, ok, err := d.value(depth + 1)
			if err != nil {
				return v, false, err
			}
			if ok {
				vs = append(vs, ev)
			}
			d.ws()
			if d.eat(',') {
				continue
			}
			if d.eat(']') {
				return attribute.SliceValue(vs...), true, nil
			}
			return v, false, errSyntax
		}
	case strings.HasPrefix(d.s[d.i:], "true"):
		d.i += 4
		return attribute.BoolValue(true), true, nil
	case strings.HasPrefix(d.s[d.i:], "false"):
		d.i += 5
		return attribute.BoolValue(false), true, nil
	case strings.HasPrefix(d.s[d.i:], "null"):
		d.i += 4
		return v, false, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	}
	return v, false, errSyntax
}

func (d *decoder) number() (attribute.Value, bool, error) {
	start, float := d.i, false
	for d.i < len(d.s) {
		c := d.s[d.i]
		if c == '.' || c == 'e' || c == 'E' || c == '+' {
			float = true
		} else if !(c == '-' || (c >= '0' && c <= '9')) {
			break
		}
		d.i++
	}
	lit := d.s[start:d.i]
	if !float {
		if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
			return attribute.Int64Value(n), true, nil
		}
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil {
		var ne *strconv.NumError
		if !errors.As(err, &ne) || ne.Err != strconv.ErrRange {
			return attribute.Value{}, false, errSyntax
		}
	}
	return attribute.Float64Value(f), true, nil
}

// str parses a JSON string. Without escapes it returns a substring of the
// document, without copying.
func (d *decoder) str() (string, error) {
	if !d.eat('"') {
		return "", errSyntax
	}
	start := d.i
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case '"':
			s := d.s[start:d.i]
			d.i++
			return s, nil
		case '\\':
			return d.strSlow(start)
		}
		d.i++
	}
	return "", errSyntax
}

func (d *decoder) strSlow(start int) (string, error) {
	var b strings.Builder
	b.Grow(d.i - start + 16)
	b.WriteString(d.s[start:d.i])
	for d.i < len(d.s) {
		c := d.s[d.i]
		switch c {
		case '"':
			d.i++
			return b.String(), nil
		case '\\':
			if d.i+1 >= len(d.s) {
				return "", errSyntax
			}
			e := d.s[d.i+1]
			d.i += 2
			switch e {
			case '"', '\\', '/':
				b.WriteByte(e)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				r, ok := d.hex4()
				if !ok {
					return "", errSyntax
				}
				if utf16.IsSurrogate(r) {
					r2 := utf8.RuneError
					if strings.HasPrefix(d.s[d.i:], `\u`) {
						d.i += 2
						if lo, ok := d.hex4(); ok {
							r2 = lo
						}
					}
					r = utf16.DecodeRune(r, r2)
				}
				b.WriteRune(r)
			default:
				return "", errSyntax
			}
		default:
			b.WriteByte(c)
			d.i++
		}
	}
	return "", errSyntax
}

func (d *decoder) hex4() (rune, bool) {
	if d.i+4 > len(d.s) {
		return 0, false
	}
	n, err := strconv.ParseUint(d.s[d.i:d.i+4], 16, 32)
	if err != nil {
		return 0, false
	}
	d.i += 4
	return rune(n), true
}
