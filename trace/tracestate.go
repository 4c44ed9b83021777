package trace

import (
	"strings"

	oteltrace "go.opentelemetry.io/otel/trace"
)

// maxTracestateMembers is the most list members a tracestate may have.
const maxTracestateMembers = 32

// maxTracestateKey and maxTracestateValue are the longest key and value of
// a list member.
const (
	maxTracestateKey   = 256
	maxTracestateValue = 256
)

// stateMember is one list member of a tracestate.
type stateMember struct{ key, value string }

// tracestate is a received tracestate list under the current W3C rules.
// OTel's trace.TraceState follows the older key grammar (a vendor part of
// at most 14 characters after a single '@', a simple key starting with a
// letter), so it cannot hold every valid member: ts holds those it can,
// header the whole list as it is to be sent on.
type tracestate struct {
	// header is the members in order, duplicates dropped, joined by ",".
	header string
	// ts holds the members OTel's TraceState accepts, in order.
	ts oteltrace.TraceState
	// extra are the members ts could not hold; nil when it holds them all.
	extra []stateMember
}

// parseTracestate reads the lines of a tracestate header (several header
// lines are one list, joined in order) under the W3C rules:
//
//   - list members are separated by ',' with optional whitespace around
//     them; empty members and empty lines are skipped;
//   - a key is 1 to 256 characters: a lowercase letter or a digit, then
//     lowercase letters, digits and '_', '-', '*', '/', '@';
//   - a value is 1 to 256 printable ASCII characters other than ',' and
//     '=', and does not end with a space;
//   - a list of more than 32 members, or with a member that breaks these
//     rules (a key starting with '@' or longer than 256 characters, say),
//     is invalid as a whole: ok is false;
//   - a key that repeats an earlier one does not invalidate the list: the
//     first member with the key is kept, the others are dropped.
//
// An empty list is valid (ok is true) and has no members.
func parseTracestate(lines []string) (st tracestate, ok bool) {
	var buf [maxTracestateMembers]stateMember
	members := buf[:0]
	count := 0
	// clean: the list is lines[0] exactly as it will be sent.
	clean := true
	nonEmpty := 0
	for _, line := range lines {
		if trimOWS(line) == "" {
			continue
		}
		nonEmpty++
		for rest := line; ; {
			m, tail, more := strings.Cut(rest, ",")
			tm := trimOWS(m)
			if len(tm) != len(m) {
				clean = false
			}
			if tm == "" {
				clean = false
			} else {
				count++
				if count > maxTracestateMembers {
					return tracestate{}, false
				}
				key, value, found := strings.Cut(tm, "=")
				if !found || !validStateKey(key) || !validStateValue(value) {
					return tracestate{}, false
				}
				if hasKey(members, key) {
					clean = false
				} else {
					members = append(members, stateMember{key, value})
				}
			}
			if !more {
				break
			}
			rest = tail
		}
	}
	if len(members) == 0 {
		return tracestate{}, true
	}
	if clean && nonEmpty == 1 {
		for _, line := range lines {
			if trimOWS(line) != "" {
				st.header = line
				break
			}
		}
	} else {
		st.header = joinMembers(members)
	}
	var err error
	if st.ts, err = oteltrace.ParseTraceState(st.header); err != nil {
		st.ts, st.extra = splitForOTel(members)
	}
	return st, true
}

// splitForOTel returns the members OTel's TraceState accepts as one, in
// order, and the others.
func splitForOTel(members []stateMember) (oteltrace.TraceState, []stateMember) {
	var kept, extra []stateMember
	for _, m := range members {
		if _, err := (oteltrace.TraceState{}).Insert(m.key, m.value); err != nil {
			extra = append(extra, m)
		} else {
			kept = append(kept, m)
		}
	}
	ts, _ := oteltrace.ParseTraceState(joinMembers(kept))
	return ts, extra
}

func hasKey(members []stateMember, key string) bool {
	for _, m := range members {
		if m.key == key {
			return true
		}
	}
	return false
}

func joinMembers(members []stateMember) string {
	var b strings.Builder
	for i, m := range members {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(m.key)
		b.WriteByte('=')
		b.WriteString(m.value)
	}
	return b.String()
}

// validStateKey reports whether k is a tracestate key of the current W3C
// grammar: 1 to 256 characters, a lowercase letter or digit first, then
// lowercase letters, digits, '_', '-', '*', '/' and '@'.
func validStateKey(k string) bool {
	if len(k) == 0 || len(k) > maxTracestateKey || !keyFirst(k[0]) {
		return false
	}
	for i := 1; i < len(k); i++ {
		if !keyRest[k[i]] {
			return false
		}
	}
	return true
}

func keyFirst(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

var keyRest = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = keyFirst(byte(c))
	}
	for _, c := range "_-*/@" {
		t[c] = true
	}
	return t
}()

// validStateValue reports whether v is a tracestate value: 1 to 256
// characters of 0x20-0x7e other than ',' and '=', the last not a space.
func validStateValue(v string) bool {
	if len(v) == 0 || len(v) > maxTracestateValue || v[len(v)-1] == ' ' {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c > 0x7e || c == ',' || c == '=' {
			return false
		}
	}
	return true
}

// sameMembers reports whether a and b hold the same members.
func sameMembers(a, b oteltrace.TraceState) bool {
	if a.Len() != b.Len() {
		return false
	}
	same := true
	a.Walk(func(k, v string) bool {
		same = b.Get(k) == v
		return same
	})
	return same
}

// outgoing returns the tracestate to send for a span whose TraceState is
// cur and that continues the trace st was received with. When cur holds
// what st's TraceState held, the list goes on as received; when it was
// changed (a sampler inserted or updated a member), cur's members come
// first, then the members OTel could not hold, up to 32 in all.
func (st *tracestate) outgoing(cur oteltrace.TraceState) string {
	if sameMembers(cur, st.ts) {
		return st.header
	}
	s := cur.String()
	n := cur.Len()
	for _, m := range st.extra {
		if n >= maxTracestateMembers {
			break
		}
		if cur.Get(m.key) != "" {
			continue
		}
		if s != "" {
			s += ","
		}
		s += m.key + "=" + m.value
		n++
	}
	return s
}
