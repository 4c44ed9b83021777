package estest

import (
	"net/http"
	"strings"
	"testing"
)

func TestClearFaultsEndsAnInjectedOutage(t *testing.T) {
	s := New(t)
	s.Inject(Fault{Status: 503, Count: 1 << 30})
	s.FailItems(1<<30, 503)
	bulk := func() int {
		t.Helper()
		res, err := http.Post(s.URL()+"/_bulk", "application/x-ndjson",
			strings.NewReader(`{"create":{"_index":"plain","_id":"1"}}`+"\n"+`{"a":1}`+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := bulk(); got != 503 {
		t.Fatalf("got HTTP %d during the injected outage, want 503", got)
	}
	s.ClearFaults()
	if got := bulk(); got != 200 || len(s.Docs("plain")) != 1 {
		t.Fatalf("got HTTP %d and %d documents after ClearFaults, want 200 and the document stored", got, len(s.Docs("plain")))
	}
}
