package w3ctest

import (
	"regexp"
	"strings"
	"testing"
)

// TraceID and ParentID are the IDs the suite's valid traceparent carries.
const (
	TraceID  = "12345678901234567890123456789012"
	ParentID = "1234567890123456"
)

// Header is one header line as sent, name as written.
type Header struct{ Name, Value string }

// Case is one request of the suite: the headers the harness sends and what
// it expects of the traceparent and tracestate of the service's outgoing
// call.
type Case struct {
	Name    string
	Headers []Header
	// Continues: the outgoing traceparent carries TraceID (and a new
	// parent-id). Otherwise it carries a new trace-id, none of the inbound
	// values.
	Continues bool
	// Tracestate is the outgoing tracestate, all lines joined with ","; ""
	// when none may be sent.
	Tracestate string
	// HTTPOnly marks cases about header-name casing: gRPC metadata keys
	// are lowercase by definition.
	HTTPOnly bool
}

// GRPC reports whether gRPC metadata can carry the case's headers as
// written: lowercase keys, values of printable ASCII (grpc-go refuses to
// send a tab in a value).
func (c *Case) GRPC() bool {
	if c.HTTPOnly {
		return false
	}
	for _, h := range c.Headers {
		if h.Name != strings.ToLower(h.Name) {
			return false
		}
		for i := 0; i < len(h.Value); i++ {
			if h.Value[i] < 0x20 || h.Value[i] > 0x7e {
				return false
			}
		}
	}
	return true
}

const (
	tp00 = "00-" + TraceID + "-" + ParentID + "-00"
	tp01 = "00-" + TraceID + "-" + ParentID + "-01"
)

func tp(v string) Header { return Header{"traceparent", v} }
func ts(v string) Header { return Header{"tracestate", v} }

// Cases returns the suite's requests, named after test.py's test methods
// (with a letter for each request of a method), plus a few the suite does
// not make (marked "extra").
func Cases() []Case {
	const (
		keyPlain = "abcdefghijklmnopqrstuvwxyz0123456789_-*/"
		keyAt    = keyPlain + "@a-z0-9_-*/"
	)
	value := allValueChars()
	z256, z257 := strings.Repeat("z", 256), strings.Repeat("z", 257)
	t241v14 := strings.Repeat("t", 241) + "@" + strings.Repeat("v", 14)
	t242v := strings.Repeat("t", 242) + "@v"
	tv15 := "t@" + strings.Repeat("v", 15)
	bars := func(from, to int) string {
		var ms []string
		for i := from; i <= to; i++ {
			ms = append(ms, "bar"+pad2(i)+"="+pad2(i))
		}
		return strings.Join(ms, ",")
	}
	cases := []Case{
		{Name: "both_traceparent_and_tracestate_missing"},
		{Name: "traceparent_included_tracestate_missing", Headers: []Header{tp(tp01)}, Continues: true},
		{Name: "traceparent_duplicated", Headers: []Header{
			tp("00-12345678901234567890123456789011-1234567890123456-01"), tp(tp01)}},
		{Name: "traceparent_header_name/a", Headers: []Header{{"trace-parent", tp01}}},
		{Name: "traceparent_header_name/b", Headers: []Header{{"trace.parent", tp01}}},
		{Name: "traceparent_header_name_valid_casing/a", Headers: []Header{{"TraceParent", tp01}}, Continues: true, HTTPOnly: true},
		{Name: "traceparent_header_name_valid_casing/b", Headers: []Header{{"TrAcEpArEnT", tp01}}, Continues: true, HTTPOnly: true},
		{Name: "traceparent_header_name_valid_casing/c", Headers: []Header{{"TRACEPARENT", tp01}}, Continues: true, HTTPOnly: true},
		{Name: "traceparent_version_0x00/a", Headers: []Header{tp(tp01 + ".")}},
		{Name: "traceparent_version_0x00/b", Headers: []Header{tp(tp01 + "-what-the-future-will-be-like")}},
		{Name: "traceparent_version_0xcc/a", Headers: []Header{tp("cc-" + TraceID + "-" + ParentID + "-01")}, Continues: true},
		{Name: "traceparent_version_0xcc/b", Headers: []Header{tp("cc-" + TraceID + "-" + ParentID + "-01-what-the-future-will-be-like")}, Continues: true},
		{Name: "traceparent_version_0xcc/c", Headers: []Header{tp("cc-" + TraceID + "-" + ParentID + "-01.what-the-future-will-be-like")}},
		{Name: "traceparent_version_0xff", Headers: []Header{tp("ff-" + TraceID + "-" + ParentID + "-01")}},
		{Name: "traceparent_version_illegal_characters/a", Headers: []Header{tp(".0-" + TraceID + "-" + ParentID + "-01")}},
		{Name: "traceparent_version_illegal_characters/b", Headers: []Header{tp("0.-" + TraceID + "-" + ParentID + "-01")}},
		{Name: "traceparent_version_too_long/a", Headers: []Header{tp("000-" + TraceID + "-" + ParentID + "-01")}},
		{Name: "traceparent_version_too_long/b", Headers: []Header{tp("0000-" + TraceID + "-" + ParentID + "-01")}},
		{Name: "traceparent_version_too_short", Headers: []Header{tp("0-" + TraceID + "-" + ParentID + "-01")}},
		{Name: "traceparent_trace_id_all_zero", Headers: []Header{tp("00-00000000000000000000000000000000-" + ParentID + "-01")}},
		{Name: "traceparent_trace_id_illegal_characters/a", Headers: []Header{tp("00-.2345678901234567890123456789012-" + ParentID + "-01")}},
		{Name: "traceparent_trace_id_illegal_characters/b", Headers: []Header{tp("00-1234567890123456789012345678901.-" + ParentID + "-01")}},
		{Name: "traceparent_trace_id_too_long", Headers: []Header{tp("00-123456789012345678901234567890123-" + ParentID + "-01")}},
		{Name: "traceparent_trace_id_too_short", Headers: []Header{tp("00-1234567890123456789012345678901-" + ParentID + "-01")}},
		{Name: "traceparent_parent_id_all_zero", Headers: []Header{tp("00-" + TraceID + "-0000000000000000-01")}},
		{Name: "traceparent_parent_id_illegal_characters/a", Headers: []Header{tp("00-" + TraceID + "-.234567890123456-01")}},
		{Name: "traceparent_parent_id_illegal_characters/b", Headers: []Header{tp("00-" + TraceID + "-123456789012345.-01")}},
		{Name: "traceparent_parent_id_too_long", Headers: []Header{tp("00-" + TraceID + "-12345678901234567-01")}},
		{Name: "traceparent_parent_id_too_short", Headers: []Header{tp("00-" + TraceID + "-123456789012345-01")}},
		{Name: "traceparent_trace_flags_illegal_characters/a", Headers: []Header{tp("00-" + TraceID + "-" + ParentID + "-.0")}},
		{Name: "traceparent_trace_flags_illegal_characters/b", Headers: []Header{tp("00-" + TraceID + "-" + ParentID + "-0.")}},
		{Name: "traceparent_trace_flags_too_long", Headers: []Header{tp("00-" + TraceID + "-" + ParentID + "-001")}},
		{Name: "traceparent_trace_flags_too_short", Headers: []Header{tp("00-" + TraceID + "-" + ParentID + "-1")}},
		{Name: "traceparent_ows_handling/a", Headers: []Header{tp(" " + tp01)}, Continues: true},
		{Name: "traceparent_ows_handling/b", Headers: []Header{tp("\t" + tp01)}, Continues: true},
		{Name: "traceparent_ows_handling/c", Headers: []Header{tp(tp01 + " ")}, Continues: true},
		{Name: "traceparent_ows_handling/d", Headers: []Header{tp(tp01 + "\t")}, Continues: true},
		{Name: "traceparent_ows_handling/e", Headers: []Header{tp("\t " + tp01 + " \t")}, Continues: true},
		{Name: "tracestate_included_traceparent_missing/a", Headers: []Header{ts("foo=1")}},
		{Name: "tracestate_included_traceparent_missing/b", Headers: []Header{ts("foo=1,bar=2")}},
		{Name: "tracestate_included_traceparent_included", Headers: []Header{tp(tp00), ts("foo=1,bar=2")}, Continues: true, Tracestate: "foo=1,bar=2"},
		{Name: "tracestate_header_name/a", Headers: []Header{tp(tp00), {"trace-state", "foo=1"}}, Continues: true},
		{Name: "tracestate_header_name/b", Headers: []Header{tp(tp00), {"trace.state", "foo=1"}}, Continues: true},
		{Name: "tracestate_header_name_valid_casing/a", Headers: []Header{tp(tp00), {"TraceState", "foo=1"}}, Continues: true, Tracestate: "foo=1", HTTPOnly: true},
		{Name: "tracestate_header_name_valid_casing/b", Headers: []Header{tp(tp00), {"TrAcEsTaTe", "foo=1"}}, Continues: true, Tracestate: "foo=1", HTTPOnly: true},
		{Name: "tracestate_header_name_valid_casing/c", Headers: []Header{tp(tp00), {"TRACESTATE", "foo=1"}}, Continues: true, Tracestate: "foo=1", HTTPOnly: true},
		{Name: "tracestate_empty_header/a", Headers: []Header{tp(tp00), ts("")}, Continues: true},
		{Name: "tracestate_empty_header/b", Headers: []Header{tp(tp00), ts("foo=1"), ts("")}, Continues: true, Tracestate: "foo=1"},
		{Name: "tracestate_empty_header/c", Headers: []Header{tp(tp00), ts(""), ts("foo=1")}, Continues: true, Tracestate: "foo=1"},
		{Name: "tracestate_multiple_headers_different_keys", Headers: []Header{tp(tp00), ts("foo=1,bar=2"), ts("rojo=1,congo=2"), ts("baz=3")},
			Continues: true, Tracestate: "foo=1,bar=2,rojo=1,congo=2,baz=3"},
		// Duplicated keys do not invalidate the list: the first member of a
		// key is kept (the suite accepts either keeping or dropping them).
		{Name: "tracestate_duplicated_keys/a", Headers: []Header{tp(tp00), ts("foo=1,foo=1")}, Continues: true, Tracestate: "foo=1"},
		{Name: "tracestate_duplicated_keys/b", Headers: []Header{tp(tp00), ts("foo=1,foo=2")}, Continues: true, Tracestate: "foo=1"},
		{Name: "tracestate_duplicated_keys/c", Headers: []Header{tp(tp00), ts("foo=1"), ts("foo=1")}, Continues: true, Tracestate: "foo=1"},
		{Name: "tracestate_duplicated_keys/d", Headers: []Header{tp(tp00), ts("foo=1"), ts("foo=2")}, Continues: true, Tracestate: "foo=1"},
		{Name: "tracestate_all_allowed_characters/a", Headers: []Header{tp(tp00), ts(keyPlain + "=" + value)}, Continues: true, Tracestate: keyPlain + "=" + value},
		{Name: "tracestate_all_allowed_characters/b", Headers: []Header{tp(tp00), ts(keyAt + "=" + value)}, Continues: true, Tracestate: keyAt + "=" + value},
		{Name: "tracestate_ows_handling/a", Headers: []Header{tp(tp00), ts("foo=1 \t , \t bar=2, \t baz=3")}, Continues: true, Tracestate: "foo=1,bar=2,baz=3"},
		{Name: "tracestate_ows_handling/b", Headers: []Header{tp(tp00), ts("foo=1\t \t,\t \tbar=2,\t \tbaz=3")}, Continues: true, Tracestate: "foo=1,bar=2,baz=3"},
		{Name: "tracestate_ows_handling/c", Headers: []Header{tp(tp00), ts(" foo=1")}, Continues: true, Tracestate: "foo=1"},
		{Name: "tracestate_ows_handling/d", Headers: []Header{tp(tp00), ts("\tfoo=1")}, Continues: true, Tracestate: "foo=1"},
		{Name: "tracestate_ows_handling/e", Headers: []Header{tp(tp00), ts("foo=1 ")}, Continues: true, Tracestate: "foo=1"},
		{Name: "tracestate_ows_handling/f", Headers: []Header{tp(tp00), ts("foo=1\t")}, Continues: true, Tracestate: "foo=1"},
		{Name: "tracestate_ows_handling/g", Headers: []Header{tp(tp00), ts("\t foo=1 \t")}, Continues: true, Tracestate: "foo=1"},
		{Name: "tracestate_key_illegal_characters/a", Headers: []Header{tp(tp00), ts("foo =1")}, Continues: true},
		{Name: "tracestate_key_illegal_characters/b", Headers: []Header{tp(tp00), ts("FOO=1")}, Continues: true},
		{Name: "tracestate_key_illegal_characters/c", Headers: []Header{tp(tp00), ts("foo.bar=1")}, Continues: true},
		// The current key grammar allows '@' anywhere but first.
		{Name: "tracestate_key_illegal_vendor_format/a", Headers: []Header{tp(tp00), ts("foo@=1,bar=2")}, Continues: true, Tracestate: "foo@=1,bar=2"},
		{Name: "tracestate_key_illegal_vendor_format/b", Headers: []Header{tp(tp00), ts("@foo=1,bar=2")}, Continues: true},
		{Name: "tracestate_key_illegal_vendor_format/c", Headers: []Header{tp(tp00), ts("foo@@bar=1,bar=2")}, Continues: true, Tracestate: "foo@@bar=1,bar=2"},
		{Name: "tracestate_key_illegal_vendor_format/d", Headers: []Header{tp(tp00), ts("foo@bar@baz=1,bar=2")}, Continues: true, Tracestate: "foo@bar@baz=1,bar=2"},
		{Name: "tracestate_member_count_limit/a", Headers: []Header{tp(tp00), ts(bars(1, 10)), ts(bars(11, 20)), ts(bars(21, 30)), ts(bars(31, 32))},
			Continues: true, Tracestate: bars(1, 32)},
		{Name: "tracestate_member_count_limit/b", Headers: []Header{tp(tp00), ts(bars(1, 10)), ts(bars(11, 20)), ts(bars(21, 30)), ts(bars(31, 33))}, Continues: true},
		{Name: "tracestate_key_length_limit/a", Headers: []Header{tp(tp00), ts("foo=1"), ts(z256 + "=1")}, Continues: true, Tracestate: "foo=1," + z256 + "=1"},
		{Name: "tracestate_key_length_limit/b", Headers: []Header{tp(tp00), ts("foo=1"), ts(z257 + "=1")}, Continues: true},
		{Name: "tracestate_key_length_limit/c", Headers: []Header{tp(tp00), ts("foo=1"), ts(t241v14 + "=1")}, Continues: true, Tracestate: "foo=1," + t241v14 + "=1"},
		{Name: "tracestate_key_length_limit/d", Headers: []Header{tp(tp00), ts("foo=1"), ts(t242v + "=1")}, Continues: true, Tracestate: "foo=1," + t242v + "=1"},
		{Name: "tracestate_key_length_limit/e", Headers: []Header{tp(tp00), ts("foo=1"), ts(tv15 + "=1")}, Continues: true, Tracestate: "foo=1," + tv15 + "=1"},
		{Name: "tracestate_value_illegal_characters/a", Headers: []Header{tp(tp00), ts("foo=bar=baz")}, Continues: true},
		{Name: "tracestate_value_illegal_characters/b", Headers: []Header{tp(tp00), ts("foo=,bar=3")}, Continues: true},

		// Extra: rules of the specification the suite does not exercise.
		{Name: "extra/traceparent_uppercase_hex", Headers: []Header{tp("00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01")}},
		{Name: "extra/traceparent_uppercase_version", Headers: []Header{tp("CC-" + TraceID + "-" + ParentID + "-01")}},
		{Name: "extra/traceparent_version_0xcc_zero_trace_id", Headers: []Header{tp("cc-00000000000000000000000000000000-" + ParentID + "-01")}},
		{Name: "extra/traceparent_trailing_dash", Headers: []Header{tp(tp01 + "-")}},
		{Name: "extra/traceparent_empty", Headers: []Header{tp("")}},
		{Name: "extra/traceparent_invalid_keeps_no_tracestate", Headers: []Header{tp("ff-" + TraceID + "-" + ParentID + "-01"), ts("foo=1")}},
		{Name: "extra/tracestate_key_starting_with_digit", Headers: []Header{tp(tp00), ts("1abc=1,foo=2")}, Continues: true, Tracestate: "1abc=1,foo=2"},
		{Name: "extra/tracestate_whitespace_member", Headers: []Header{tp(tp00), ts("foo=1, ,bar=2")}, Continues: true, Tracestate: "foo=1,bar=2"},
		{Name: "extra/tracestate_value_trailing_space_inside", Headers: []Header{tp(tp00), ts("foo=a b")}, Continues: true, Tracestate: "foo=a b"},
		{Name: "extra/tracestate_value_too_long", Headers: []Header{tp(tp00), ts("foo=1,bar=" + strings.Repeat("x", 257))}, Continues: true},
		{Name: "extra/tracestate_member_without_equals", Headers: []Header{tp(tp00), ts("foo=1,bar")}, Continues: true},
		{Name: "extra/tracestate_33_members_with_duplicates", Headers: []Header{tp(tp00), ts(bars(1, 32) + ",bar01=x")}, Continues: true},
	}
	return cases
}

// allValueChars is every character a tracestate value may hold: 0x20 to
// 0x7e except ',' and '='.
func allValueChars() string {
	var b strings.Builder
	for c := byte(0x20); c <= 0x7e; c++ {
		if c != ',' && c != '=' {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func pad2(i int) string {
	const digits = "0123456789"
	return string([]byte{digits[i/10], digits[i%10]})
}

var traceparentRE = regexp.MustCompile(`^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$`)

// Check checks the traceparent and tracestate header lines of the
// service's outgoing call against c, as the suite's harness does: exactly
// one traceparent, of version 00 and a valid trace-id; the inbound trace
// continued with a new parent-id, or a new trace whose ID appears in none
// of the inbound values; the tracestate lines, joined, equal to
// c.Tracestate. It returns the outgoing trace-id and parent-id.
func Check(t testing.TB, c *Case, traceparent, tracestate []string) (traceID, parentID string) {
	t.Helper()
	if len(traceparent) != 1 {
		t.Errorf("%s: outgoing traceparent lines: got %q, want one", c.Name, traceparent)
		return "", ""
	}
	m := traceparentRE.FindStringSubmatch(traceparent[0])
	if m == nil {
		t.Errorf("%s: outgoing traceparent %q is not a valid version-00 traceparent", c.Name, traceparent[0])
		return "", ""
	}
	traceID, parentID = m[1], m[2]
	if traceID == strings.Repeat("0", 32) || parentID == strings.Repeat("0", 16) {
		t.Errorf("%s: outgoing traceparent %q has an all-zero ID", c.Name, traceparent[0])
	}
	if c.Continues {
		if traceID != TraceID {
			t.Errorf("%s: outgoing trace-id %s, want the inbound %s continued", c.Name, traceID, TraceID)
		}
		if parentID == ParentID {
			t.Errorf("%s: outgoing parent-id %s is the inbound one, want a new one", c.Name, parentID)
		}
	} else {
		for _, h := range c.Headers {
			if strings.Contains(h.Value, traceID) {
				t.Errorf("%s: outgoing trace-id %s comes from inbound %s %q, want a new trace", c.Name, traceID, h.Name, h.Value)
			}
		}
	}
	for _, line := range tracestate {
		if line == "" {
			t.Errorf("%s: an empty outgoing tracestate header was sent", c.Name)
		}
	}
	if got := strings.Join(tracestate, ","); got != c.Tracestate {
		t.Errorf("%s: outgoing tracestate\n got %q\nwant %q", c.Name, got, c.Tracestate)
	}
	return traceID, parentID
}
