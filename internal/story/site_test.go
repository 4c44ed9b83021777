package story

import (
	"strings"
	"testing"

	"github.com/glassbox-obs/glassbox/internal/gostack"
)

// TestSiteLines: a crash site fits the room it is given, shortened in
// the documented order, and its file's base name and line are never cut.
func TestSiteLines(t *testing.T) {
	f := &gostack.Frame{Function: "github.com/acme/shop/internal/orders.(*Store).Save", File: "/home/ci/src/shop/internal/orders/store.go", Line: 4121}
	for _, tc := range []struct {
		room int
		want []string
	}{
		{110, []string{"at github.com/acme/shop/internal/orders.(*Store).Save (/home/ci/src/shop/internal/orders/store.go:4121)"}},
		{100, []string{"at github.com/acme/shop/internal/orders.(*Store).Save (…/ci/src/shop/internal/orders/store.go:4121)"}},
		{80, []string{"at github.com/acme/shop/internal/orders.(*Store).Save (…/orders/store.go:4121)"}},
		{50, []string{"at orders.(*Store).Save (…/orders/store.go:4121)"}},
		{30, []string{"at orders.(*Store).Save", "   (…/orders/store.go:4121)"}},
		{20, []string{"at orders.(*Store).…", "   (…/store.go:4121)"}},
		{16, []string{"at orders.(*Sto…", "   (store.go:4121)"}}, // wider than room: the caller moves it left
	} {
		got := siteLines(f, tc.room)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("room %d: got %q, want %q", tc.room, got, tc.want)
		}
	}
	for room := 10; room <= 120; room++ {
		lines := siteLines(f, room)
		if !strings.Contains(strings.Join(lines, ""), "store.go:4121") {
			t.Errorf("room %d: %q lost the file or its line", room, lines)
		}
		for _, ln := range lines {
			if width(ln) > room && !strings.Contains(ln, "store.go:4121") {
				t.Errorf("room %d: %q is wider than the room", room, ln)
			}
		}
	}
}

// TestCrashSiteOfALogLine: a log line with error.stack_trace gets its
// crash site, one without (or with only library frames) none.
func TestCrashSiteOfALogLine(t *testing.T) {
	res := &Result{}
	for i, raw := range []string{
		`{"@timestamp":"2026-01-02T03:04:05Z","log.level":"error","message":"boom","error.stack_trace":"net/http.HandlerFunc.ServeHTTP\n\t/go/src/net/http/server.go:2286\nmain.handle\n\t/src/app/main.go:12\n"}`,
		`{"@timestamp":"2026-01-02T03:04:06Z","log.level":"error","message":"deep","error.stack_trace":"net/http.(*conn).serve\n\t/go/src/net/http/server.go:2067\n"}`,
		`{"@timestamp":"2026-01-02T03:04:07Z","log.level":"error","message":"plain"}`,
	} {
		d, err := newDoc(string(rune('a'+i)), []byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		res.Docs = append(res.Docs, d)
	}
	s := Build(res)
	if l := s.Logs[0]; l.Site == nil || l.Site.Function != "main.handle" || l.Site.Location() != "/src/app/main.go:12" {
		t.Errorf("boom: got site %+v", l.Site)
	}
	for _, l := range s.Logs[1:] {
		if l.Site != nil {
			t.Errorf("%s: got site %+v, want none", l.Message, l.Site)
		}
	}
}
