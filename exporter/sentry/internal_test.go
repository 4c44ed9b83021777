package sentry

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glassbox-obs/glassbox/internal/kibana"
)

func TestParsePanicStack(t *testing.T) {
	stack := "goroutine 7 [running]:\n" +
		"runtime/debug.Stack()\n\t/usr/local/go/src/runtime/debug/stack.go:26 +0x5e\n" +
		"github.com/glassbox-obs/glassbox/middleware.(*httpState).finish(0xc000)\n\t/work/main/middleware/http.go:206 +0x65\n" +
		"panic({0x7a2f80?, 0xc0000a2000?})\n\t/usr/local/go/src/runtime/panic.go:785 +0x132\n" +
		"example.com/shop/orders.(*Handler).load(...)\n\texample.com/shop/orders/load.go:42\n" +
		"example.com/shop/orders.(*Handler).ServeHTTP(0xc000, {0x9, 0x1})\n\texample.com/shop/orders/http.go:17 +0x25\n" +
		"net/http.HandlerFunc.ServeHTTP(0x0?, {0x9, 0x1}, 0x0?)\n\tnet/http/server.go:2294 +0x29\n" +
		"created by net/http.(*Server).Serve in goroutine 1\n\tnet/http/server.go:3454 +0x485\n"
	frames := parsePanicStack([]byte(stack))
	var got []string
	for _, f := range frames {
		got = append(got, f.Module+"."+f.Function+":"+itoa(f.Lineno)+":"+boolStr(f.InApp))
	}
	want := []string{
		"net/http.HandlerFunc.ServeHTTP:2294:false",
		"example.com/shop/orders.(*Handler).ServeHTTP:17:true",
		"example.com/shop/orders.(*Handler).load:42:true",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %q, want %q", got, want)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func boolStr(b bool) string { return strconv.FormatBool(b) }

func TestInApp(t *testing.T) {
	tests := []struct {
		module, path string
		want         bool
	}{
		{"example.com/shop/orders", "/src/shop/orders/load.go", true},
		{"main", "/src/shop/main.go", true},
		{"github.com/lib/pq", "/root/go/pkg/mod/github.com/lib/pq@v1.10.9/conn.go", false},
		{"github.com/lib/pq", "github.com/lib/pq@v1.10.9/conn.go", false},
		{"net/http", "net/http/server.go", false},
		{"net/http", thisBuild().GOROOT + "/src/net/http/server.go", false},
		{"github.com/glassbox-obs/glassbox/middleware", "/x/middleware/http.go", false},
		{"github.com/glassbox-obs/glassbox/exporter/sentry_test", "/x/exporter/sentry/a_test.go", true},
		{"example.com/dep", "/home/u/go/pkg/mod/example.com/dep@v1.0.0/x.go", false},
		{"example.com/vendored", "/src/app/vendor/example.com/vendored/x.go", false},
		{"myapp/internal/orders", "/src/myapp/internal/orders/x.go", true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			f := newFrame(tt.module+".F", tt.path, 1)
			if got := f.InApp; got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	now := time.Unix(1000, 0)
	tests := []struct {
		name   string
		status int
		hdr    map[string]string
		want   time.Duration // 0: no backoff
	}{
		{"ok", 200, nil, 0},
		{"429 bare", 429, nil, 60 * time.Second},
		{"429 Retry-After", 429, map[string]string{"Retry-After": "7"}, 7 * time.Second},
		{"429 Retry-After date", 429, map[string]string{"Retry-After": now.Add(9 * time.Second).UTC().Format(http.TimeFormat)}, 9 * time.Second},
		{"limits error", 429, map[string]string{"X-Sentry-Rate-Limits": "30:error:project, 90:transaction:org"}, 30 * time.Second},
		{"limits all", 200, map[string]string{"X-Sentry-Rate-Limits": "45::organization"}, 45 * time.Second},
		{"limits other", 429, map[string]string{"X-Sentry-Rate-Limits": "45:transaction;session:project", "Retry-After": "10"}, 0},
		{"garbage", 429, map[string]string{"X-Sentry-Rate-Limits": "soon:error"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := &http.Response{StatusCode: tt.status, Header: http.Header{}}
			for k, v := range tt.hdr {
				resp.Header.Set(k, v)
			}
			got := backoff(resp, now)
			if tt.want == 0 {
				if !got.IsZero() {
					t.Errorf("got %v, want no backoff", got.Sub(now))
				}
				return
			}
			if got.Sub(now) != tt.want {
				t.Errorf("got %v, want %v", got.Sub(now), tt.want)
			}
		})
	}
}

// TestDiscoverLink: the link of an event parses back (as Kibana reads it)
// to the correlation ID, glassbox's logs data view and the window from an
// hour before the event to fifteen minutes after, whatever the ID holds.
func TestDiscoverLink(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.FixedZone("CET", 3600))
	for _, id := range []string{
		"abc-123",
		"order-42:retry.1",
		"4bf92f3577b34da6a3ce929d0e0e4736",
		"it's!a:b",            // rison's quote and escape, KQL's field separator
		"'!':(x),y*\"\\ %&#?", // and everything else a URL or KQL could trip on
	} {
		t.Run(id, func(t *testing.T) {
			link := discoverLink("https://kibana.example/s/ops/", id, at)
			if strings.ContainsAny(link, " \"\\<>{}|^`") || strings.Count(link, "#") != 1 || strings.Count(link, "&") != 1 {
				t.Errorf("the ID escaped its quoting: %s", link)
			}
			if _, err := url.Parse(link); err != nil {
				t.Fatalf("link does not parse as a URL: %v (%s)", err, link)
			}
			got, err := kibana.ParseDiscoverURL(link)
			if err != nil {
				t.Fatalf("ParseDiscoverURL(%s): %v", link, err)
			}
			if got.CorrelationID != id {
				t.Errorf("got correlation ID %q, want %q (%s)", got.CorrelationID, id, link)
			}
			if got.DataViewID != kibana.LogsDataViewID {
				t.Errorf("got data view %q, want %q", got.DataViewID, kibana.LogsDataViewID)
			}
			if got.Base != "https://kibana.example/s/ops" {
				t.Errorf("got base %q, want the space path kept", got.Base)
			}
			if from, to := at.Add(-time.Hour), at.Add(15*time.Minute); !got.From.Equal(from) || !got.To.Equal(to) {
				t.Errorf("got window %v .. %v, want %v .. %v", got.From, got.To, from.UTC(), to.UTC())
			}
		})
	}
	if got := discoverLink("", "abc", at); got != "" {
		t.Errorf("got %q without a Kibana URL, want none", got)
	}
	if got := discoverLink("https://kibana.example", "", at); got != "" {
		t.Errorf("got %q without a correlation ID, want none", got)
	}
}

// TestAggregatorShutdown: Shutdown returns the held summaries and stops
// every window's timer, so that nothing fires (or leaks) afterwards.
func TestAggregatorShutdown(t *testing.T) {
	a := newAggregator(time.Hour, func(*summary) { t.Error("a timer fired") })
	now := time.Now()
	if d, id, _ := a.admit("k", "id1", now); d != aggSend || id != "id1" {
		t.Fatalf("first: got %v %s, want send id1", d, id)
	}
	d, id, w := a.admit("k", "id2", now)
	if d != aggHold || id != "id1" || !a.hold(w, &event{EventID: "id2"}, 10) {
		t.Fatalf("second: got %v %s, want hold for id1", d, id)
	}
	if d, id, _ := a.admit("k", "id3", now); d != aggCount || id != "id1" {
		t.Fatalf("third: got %v %s, want count for id1", d, id)
	}
	sums := a.shutdown()
	if len(sums) != 1 || sums[0].ev.EventID != "id2" || sums[0].count != 2 || sums[0].firstID != "id1" || sums[0].reserved != 10 {
		t.Fatalf("got summaries %+v, want id2 standing for 2 events after id1", sums)
	}
	if w.timer.Stop() {
		t.Error("the window's timer was still running after shutdown")
	}
	if d, id, _ := a.admit("k", "id4", now); d != aggSend || id != "id4" {
		t.Errorf("after shutdown: got %v %s, want send id4", d, id)
	}
}
