package slo

import (
	"encoding/json"
	"strconv"
	"strings"
)

// A tiny YAML writer for the files glassbox generates (rule files and
// promtool test files): block mappings and sequences, strings as JSON
// double-quoted scalars (valid YAML) or literal blocks when they span
// lines. It keeps the module free of a YAML dependency.

// yamlMap is a mapping whose keys keep their order.
type yamlMap []yamlKV

type yamlKV struct {
	Key string
	Val any // string, int, float64, bool, yamlMap, []any
}

func writeYAML(v any) string {
	var b strings.Builder
	writeYAMLValue(&b, v, 0, false)
	return b.String()
}

func writeYAMLValue(b *strings.Builder, v any, indent int, inList bool) {
	pad := strings.Repeat("  ", indent)
	switch v := v.(type) {
	case yamlMap:
		if len(v) == 0 {
			b.WriteString(" {}\n")
			return
		}
		for i, kv := range v {
			if !(inList && i == 0) {
				b.WriteString(pad)
			}
			b.WriteString(yamlKey(kv.Key))
			b.WriteString(":")
			switch val := kv.Val.(type) {
			case yamlMap:
				if len(val) == 0 {
					b.WriteString(" {}\n")
					continue
				}
				b.WriteString("\n")
				writeYAMLValue(b, val, indent+1, false)
			case []any:
				if len(val) == 0 {
					b.WriteString(" []\n")
					continue
				}
				b.WriteString("\n")
				writeYAMLValue(b, val, indent+1, false)
			default:
				b.WriteString(" ")
				writeYAMLScalar(b, val, indent+1)
			}
		}
	case []any:
		for _, e := range v {
			b.WriteString(pad)
			b.WriteString("- ")
			switch e := e.(type) {
			case yamlMap:
				writeYAMLValue(b, e, indent+1, true)
			default:
				writeYAMLScalar(b, e, indent+1)
			}
		}
	default:
		b.WriteString(pad)
		writeYAMLScalar(b, v, indent)
	}
}

func writeYAMLScalar(b *strings.Builder, v any, indent int) {
	switch v := v.(type) {
	case string:
		if literalOK(v) {
			b.WriteString("|-\n")
			pad := strings.Repeat("  ", indent)
			for _, line := range strings.Split(v, "\n") {
				if line != "" {
					b.WriteString(pad)
					b.WriteString(line)
				}
				b.WriteString("\n")
			}
			return
		}
		b.WriteString(jsonQuote(v))
	case int:
		b.WriteString(strconv.Itoa(v))
	case float64:
		b.WriteString(fmtNumber(v))
	case bool:
		b.WriteString(strconv.FormatBool(v))
	default:
		q, _ := json.Marshal(v)
		b.Write(q)
	}
	b.WriteString("\n")
}

// literalOK reports whether s can be a literal block scalar: it spans
// lines, its first line does not start with a space, and it holds only
// printable characters and no trailing blanks.
func literalOK(s string) bool {
	if !strings.Contains(s, "\n") || strings.HasPrefix(s, " ") || strings.HasSuffix(s, "\n") {
		return false
	}
	for _, line := range strings.Split(s, "\n") {
		if strings.HasSuffix(line, " ") {
			return false
		}
	}
	for _, r := range s {
		if r != '\n' && (r < 0x20 || r == 0x7f || r == 0xfeff || r == 0x85 || r == 0x2028 || r == 0x2029) {
			return false
		}
	}
	return true
}

// yamlKey writes a key plain when it is a simple word, quoted otherwise.
func yamlKey(k string) string {
	if k != "" && strings.Trim(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == "" {
		return k
	}
	return jsonQuote(k)
}

// jsonQuote returns s as a JSON string, which YAML reads as a
// double-quoted scalar; <, > and & stay as they are.
func jsonQuote(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}
