package kibana

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDiscoverURLRoundTrip(t *testing.T) {
	from := time.Date(2026, 1, 2, 2, 4, 5, 123_000_000, time.UTC)
	to := from.Add(75 * time.Minute)
	ids := append([]string{
		"4bf92f3577b34da6a3ce929d0e0e4736",
		"order-42:retry.1",
		"it's", "bang!", "a:b", "with space", "'!'!:(x),y*@$", `"quoted" \back\`, "%41+&=#?/",
	}, hostile...)
	for _, id := range ids {
		link := DiscoverURL("https://kibana.example/s/ops/", LogsDataViewID, id, from, to)
		if strings.ContainsAny(link, " \"\\<>{}|^`\n\r\t") {
			t.Errorf("id %q: link holds a character a URL may not: %s", id, link)
		}
		if _, err := url.Parse(link); err != nil {
			t.Errorf("id %q: link does not parse as a URL: %v", id, err)
		}
		got, err := ParseDiscoverURL(link)
		if err != nil {
			t.Errorf("id %q: ParseDiscoverURL(%s): %v", id, link, err)
			continue
		}
		if got.CorrelationID != id {
			t.Errorf("id %q: got correlation ID %q back from %s", id, got.CorrelationID, link)
		}
		if got.DataViewID != LogsDataViewID || got.Base != "https://kibana.example/s/ops" {
			t.Errorf("id %q: got data view %q, base %q", id, got.DataViewID, got.Base)
		}
		if !got.From.Equal(from) || !got.To.Equal(to) {
			t.Errorf("id %q: got window %v..%v, want %v..%v", id, got.From, got.To, from, to)
		}
		if !reflect.DeepEqual(got.Columns, SearchColumns()) {
			t.Errorf("id %q: got columns %v, want the saved search's %v", id, got.Columns, SearchColumns())
		}
		if want := [][2]string{{TimeField, "asc"}}; !reflect.DeepEqual(got.Sort, want) {
			t.Errorf("id %q: got sort %v, want %v", id, got.Sort, want)
		}
	}
}

func TestDiscoverURLFormat(t *testing.T) {
	from := time.Date(2026, 1, 2, 2, 4, 5, 0, time.FixedZone("CET", 3600))
	link := DiscoverURL("https://kibana.example", "glassbox-logs", "it's!", from, from.Add(time.Hour))
	want := "https://kibana.example/app/discover#/?" +
		"_g=(time:(from:'2026-01-02T01:04:05.000Z',to:'2026-01-02T02:04:05.000Z'))" +
		"&_a=(columns:!(service.name,log.level,message,http.route,http.response.status_code,trace.id,error.id)," +
		"dataSource:(dataViewId:glassbox-logs,type:dataView),index:glassbox-logs," +
		"query:(language:kuery,query:'correlation.id:%22it!'s!!%22'),sort:!(!('@timestamp',asc)))"
	if link != want {
		t.Errorf("got  %s\nwant %s", link, want)
	}
}

func TestParseDiscoverURLRejects(t *testing.T) {
	good := DiscoverURL("https://k", LogsDataViewID, "x", time.Unix(0, 0), time.Unix(60, 0))
	for name, link := range map[string]string{
		"not discover":  "https://k/app/dashboards#/?_g=()",
		"no state":      "https://k/app/discover#/",
		"bad rison":     strings.Replace(good, "_a=(", "_a=((", 1),
		"bad escape":    strings.Replace(good, "_a=(", "_a=%ZZ(", 1),
		"no data view":  strings.NewReplacer("dataSource:(dataViewId:glassbox-logs,type:dataView),", "", "index:glassbox-logs,", "").Replace(good),
		"no time":       strings.Replace(good, "_g=(time:", "_g=(x:", 1),
		"lucene query":  strings.Replace(good, "language:kuery", "language:lucene", 1),
		"sort not pair": strings.Replace(good, "sort:!(!('@timestamp',asc))", "sort:!(x)", 1),
	} {
		if _, err := ParseDiscoverURL(link); err == nil {
			t.Errorf("%s: ParseDiscoverURL(%s) accepted it", name, link)
		}
	}
}

func TestQuoteKQL(t *testing.T) {
	for _, s := range hostile {
		q := QuoteKQL(s)
		back, ok := unquoteKQL(q)
		if !ok || back != s {
			t.Errorf("QuoteKQL(%q) = %s reads back as %q, %v", s, q, back, ok)
		}
	}
	if got, want := QuoteKQL(`a"b\c`), `"a\"b\\c"`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func FuzzDiscoverURL(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		from := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
		link := DiscoverURL("https://kibana.example", LogsDataViewID, id, from, from.Add(time.Hour))
		got, err := ParseDiscoverURL(link)
		if err != nil {
			t.Fatalf("ParseDiscoverURL(%s): %v", link, err)
		}
		if got.CorrelationID != id || got.DataViewID != LogsDataViewID || !got.From.Equal(from) {
			t.Fatalf("id %q: got %+v from %s", id, got, link)
		}
	})
}
