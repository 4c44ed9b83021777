package jsonenc

import (
	"encoding/base64"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

const hex = "0123456789abcdef"

// safe[b] is true for ASCII bytes that need no escaping inside a JSON string.
var safe = func() (t [utf8.RuneSelf]bool) {
	for i := 0x20; i < utf8.RuneSelf; i++ {
		t[i] = i != '"' && i != '\\' && i != 0x7f
	}
	return t
}()

// AppendString appends s as a quoted JSON string.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = AppendStringContent(dst, s)
	return append(dst, '"')
}

// AppendStringContent appends s escaped for use inside a JSON string,
// without the quotes.
func AppendStringContent(dst []byte, s string) []byte {
	// Fast path: scan for the first byte that needs work, eight at a time.
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if needsWork(load64(s, i)) {
			break
		}
	}
	for i < len(s) && s[i] < utf8.RuneSelf && safe[s[i]] {
		i++
	}
	if i == len(s) {
		return append(dst, s...)
	}
	return appendEscaped(dst, s, i)
}

const (
	lsb = 0x0101010101010101 // the lowest bit of every byte
	msb = 0x8080808080808080 // the highest bit of every byte
)

// needsWork reports whether one of the eight bytes in x is not safe (see
// safe): below 0x20, '"', '\\', 0x7f, or not ASCII. Each term sets a
// byte's top bit where the byte is of one kind (exactly so for the first
// such byte; borrows and carries can only flag bytes after it, so "any" is
// exact).
func needsWork(x uint64) bool {
	lt20 := (x - 0x20*lsb) &^ x // below 0x20
	ge7f := x | (x + lsb)       // 0x7f and up
	quote := ((x ^ '"'*lsb) - lsb) &^ (x ^ '"'*lsb)
	bslash := ((x ^ '\\'*lsb) - lsb) &^ (x ^ '\\'*lsb)
	return (lt20|ge7f|quote|bslash)&msb != 0
}

func appendEscaped(dst []byte, s string, i int) []byte {
	dst = append(dst, s[:i]...)
	start := i
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if safe[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			// U+FFFD written as itself, as a valid U+FFFD in s is: one
			// encoding per decoded string, so that keys that a JSON parser
			// reads as equal are equal bytes here too.
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\uFFFD"...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...)
}

// AppendBytesAsString appends b as a JSON string when it is valid UTF-8,
// and as a base64 (standard encoding) string otherwise.
func AppendBytesAsString(dst []byte, b []byte) []byte {
	if utf8.Valid(b) {
		dst = append(dst, '"')
		dst = AppendStringContent(dst, unsafeString(b))
		return append(dst, '"')
	}
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}

// AppendFloat appends f as a JSON number the way encoding/json writes a
// float64. NaN and ±Inf, which JSON cannot represent, become the strings
// "NaN", "+Inf" and "-Inf".
func AppendFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(dst, `"+Inf"`...)
	case math.IsInf(f, -1):
		return append(dst, `"-Inf"`...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// Clean up e-09 to e-9, as encoding/json does.
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

// AppendTime appends t in UTC as an RFC 3339 string with exactly nine
// fractional digits ("2006-01-02T15:04:05.000000000Z"), the form
// Elasticsearch's date_nanos accepts and that sorts lexically.
func AppendTime(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst = AppendTimeContent(dst, t)
	return append(dst, '"')
}

// AppendTimeContent is AppendTime without the quotes.
func AppendTimeContent(dst []byte, t time.Time) []byte {
	secs := t.Unix()
	if secs < minSecs || secs > maxSecs {
		return t.UTC().AppendFormat(dst, "2006-01-02T15:04:05.000000000Z07:00")
	}
	var b [timeLen]byte
	formatSecond(&b, secs)
	formatNanos(&b, t.Nanosecond())
	return append(dst, b[:]...)
}

// The seconds AppendTimeContent formats itself: years 0001 to 9999.
const minSecs, maxSecs = -62135596800, 253402300799

// timeLen is the length of "2006-01-02T15:04:05.000000000Z".
const timeLen = 30

// formatSecond writes the second secs (in minSecs..maxSecs) as
// "2006-01-02T15:04:05." into b[:20].
func formatSecond(b *[timeLen]byte, secs int64) {
	days := secs / 86400
	rem := secs % 86400
	if rem < 0 {
		rem += 86400
		days--
	}
	year, month, day := civil(days)
	hour, min, sec := int(rem/3600), int(rem%3600/60), int(rem%60)
	b[0] = byte('0' + year/1000)
	b[1] = byte('0' + year/100%10)
	b[2] = byte('0' + year/10%10)
	b[3] = byte('0' + year%10)
	b[4] = '-'
	b[5] = byte('0' + month/10)
	b[6] = byte('0' + month%10)
	b[7] = '-'
	b[8] = byte('0' + day/10)
	b[9] = byte('0' + day%10)
	b[10] = 'T'
	b[11] = byte('0' + hour/10)
	b[12] = byte('0' + hour%10)
	b[13] = ':'
	b[14] = byte('0' + min/10)
	b[15] = byte('0' + min%10)
	b[16] = ':'
	b[17] = byte('0' + sec/10)
	b[18] = byte('0' + sec%10)
	b[19] = '.'
}

// formatNanos writes ns (0..999999999) as nine digits and 'Z' into
// b[20:], two digits at a time.
func formatNanos(b *[timeLen]byte, ns int) {
	u := uint32(ns)
	b[29] = 'Z'
	b[28] = byte('0' + u%10)
	u /= 10
	for i := 26; i >= 20; i -= 2 {
		d := u % 100
		u /= 100
		b[i], b[i+1] = digits2[2*d], digits2[2*d+1]
	}
}

// digits2 holds "00" to "99".
const digits2 = "0001020304050607080910111213141516171819" +
	"2021222324252627282930313233343536373839" +
	"4041424344454647484950515253545556575859" +
	"6061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// TimeCache is AppendTimeContent for a caller that formats times mostly
// within the same second (the time records are logged at): it keeps the
// text of the last second it wrote and formats only the fraction while
// the second is the same. The output is AppendTimeContent's. The zero
// TimeCache is ready; it is not safe for concurrent use.
type TimeCache struct {
	sec  int64
	ok   bool
	text [timeLen]byte
}

// AppendTimeContent appends t as the package function does.
func (c *TimeCache) AppendTimeContent(dst []byte, t time.Time) []byte {
	secs := t.Unix()
	if !c.ok || secs != c.sec {
		if secs < minSecs || secs > maxSecs {
			return AppendTimeContent(dst, t)
		}
		formatSecond(&c.text, secs)
		c.sec, c.ok = secs, true
	}
	formatNanos(&c.text, t.Nanosecond())
	return append(dst, c.text[:]...)
}

// civil converts days since 1970-01-01 to a proleptic Gregorian date
// (Howard Hinnant's days_from_civil inverse).
func civil(days int64) (year, month, day int) {
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return int(y), int(m), int(d)
}

// AppendHex appends the lowercase hex encoding of b, quoted.
func AppendHex(dst []byte, b []byte) []byte {
	dst = append(dst, '"')
	for _, c := range b {
		dst = append(dst, hexPairs[2*int(c):2*int(c)+2]...)
	}
	return append(dst, '"')
}

// hexPairs holds "00" to "ff".
const hexPairs = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" +
	"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f" +
	"404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f" +
	"606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f" +
	"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f" +
	"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf" +
	"c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf" +
	"e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"

// AppendInt appends i in decimal.
func AppendInt(dst []byte, i int64) []byte { return strconv.AppendInt(dst, i, 10) }

// AppendUint appends u in decimal.
func AppendUint(dst []byte, u uint64) []byte { return strconv.AppendUint(dst, u, 10) }

// AppendBool appends true or false.
func AppendBool(dst []byte, v bool) []byte { return strconv.AppendBool(dst, v) }
