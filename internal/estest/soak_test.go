package estest

import (
	"fmt"
	"strings"
	"testing"
)

func TestSetItemFailurePercent(t *testing.T) {
	s := New(t)
	s.SetItemFailurePercent(30)
	var lines []string
	for i := range 100 {
		lines = append(lines, fmt.Sprintf(`{"create":{"_index":"plain","_id":"d%d"}}`, i), `{"n":1}`)
	}
	r := bulk(t, s, lines...)
	failed := 0
	for i := range 100 {
		it := item(t, r, i)
		switch st := int(it["status"].(float64)); st {
		case 201:
		case 503:
			if typ, _ := errType(it); typ != "unavailable_shards_exception" {
				t.Errorf("item %d: got error %s, want unavailable_shards_exception", i, typ)
			}
			failed++
		default:
			t.Errorf("item %d: got status %d, want 201 or 503", i, st)
		}
	}
	if failed != 30 {
		t.Errorf("got %d of 100 items failed, want 30", failed)
	}
	if got := len(s.Docs("plain")); got != 70 {
		t.Errorf("got %d documents stored, want 70", got)
	}
	s.SetItemFailurePercent(0)
	if r := bulk(t, s, `{"create":{"_index":"plain","_id":"after"}}`, `{"n":1}`); item(t, r, 0)["status"].(float64) != 201 {
		t.Errorf("after SetItemFailurePercent(0): got %s, want 201", r.raw)
	}
}

func TestSetMaxContentLength(t *testing.T) {
	s := New(t)
	small := []string{`{"create":{"_index":"plain","_id":"a"}}`, `{"n":1}`}
	large := []string{`{"create":{"_index":"plain","_id":"b"}}`, `{"s":"` + strings.Repeat("x", 200) + `"}`}
	s.SetMaxContentLength(100)
	if r := bulk(t, s, large...); r.status != 413 {
		t.Errorf("body over the limit: got %d, want 413", r.status)
	}
	if r := bulk(t, s, small...); r.status != 200 {
		t.Errorf("body under the limit: got %d, want 200: %s", r.status, r.raw)
	}
	s.SetMaxContentLength(0)
	if r := bulk(t, s, large...); r.status != 200 {
		t.Errorf("limit lifted: got %d, want 200: %s", r.status, r.raw)
	}
}

func TestShed(t *testing.T) {
	s := New(t)
	bulk(t, s, `{"create":{"_index":"plain","_id":"a"}}`, `{"n":1}`, `{"create":{"_index":"plain","_id":"b"}}`, `{"n":2}`)
	var seen []string
	s.Shed(func(d Doc) { seen = append(seen, d.ID+"="+string(d.Source)) })
	if got, want := strings.Join(seen, ","), `a={"n":1},b={"n":2}`; got != want {
		t.Errorf("first Shed visited %s, want %s", got, want)
	}
	r := bulk(t, s, `{"create":{"_index":"plain","_id":"a"}}`, `{"n":1}`, `{"create":{"_index":"plain","_id":"c"}}`, `{"n":3}`)
	if st := item(t, r, 0)["status"].(float64); st != 409 {
		t.Errorf("create of a shed _id: got %v, want 409", st)
	}
	seen = nil
	s.Shed(func(d Doc) { seen = append(seen, d.ID) })
	if got := strings.Join(seen, ","); got != "c" {
		t.Errorf("second Shed visited %s, want c", got)
	}
}

func TestClearFaults(t *testing.T) {
	s := New(t)
	s.Inject(Fault{Status: 503, Count: 1000})
	s.FailItems(1000, 429)
	if r := bulk(t, s, `{"create":{"_index":"plain","_id":"a"}}`, `{"n":1}`); r.status != 503 {
		t.Fatalf("during the storm: got %d, want 503", r.status)
	}
	s.ClearFaults()
	r := bulk(t, s, `{"create":{"_index":"plain","_id":"a"}}`, `{"n":1}`)
	if r.status != 200 || item(t, r, 0)["status"].(float64) != 201 {
		t.Errorf("after ClearFaults: got %d %s, want 200 with the item created", r.status, r.raw)
	}
}
