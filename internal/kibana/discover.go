package kibana

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// DiscoverMargin is how much glassbox trace widens a story's window on
// both sides in its Discover link, so that records written just before the
// first span or after the last one (clocks of different hosts, a late log
// line) are in view. "glassbox doctor" fails a local clock skewed by more:
// its documents would fall outside the links.
const DiscoverMargin = time.Minute

// DiscoverURL returns the Kibana Discover link that shows every log record
// of one request: the data view dataViewID (LogsDataViewID for glassbox's
// data view), the KQL query correlation.id:"<id>", the time window
// [from, to], the columns of the saved search "Request by correlation ID"
// (SearchColumns) and oldest record first. base is Kibana's URL, with a
// space path when there is one ("https://kibana.example.com/s/ops").
//
// The link has the format of current Kibana releases:
//
//	<base>/app/discover#/?_g=(time:(from:'…',to:'…'))&_a=(columns:!(…),dataSource:(dataViewId:…,type:dataView),index:…,query:(language:kuery,query:'correlation.id:"…"'),sort:!(!('@timestamp',asc)))
//
// _a also carries the legacy index key, which Kibana 8.13 and 8.14 read
// and newer releases drop in favour of dataSource. Any correlation ID is
// safe: it is KQL-quoted, then rison-quoted (' and ! escaped by !), then
// percent-encoded.
func DiscoverURL(base, dataViewID, correlationID string, from, to time.Time) string {
	return discoverURL(base, dataViewID, "correlation.id:"+QuoteKQL(correlationID), from, to)
}

// timeLayout is how Discover links write absolute times: UTC with
// milliseconds, as Kibana's own links do.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

func discoverURL(base, dataViewID, kql string, from, to time.Time) string {
	g := risonObject{{"time", risonObject{
		{"from", from.UTC().Format(timeLayout)},
		{"to", to.UTC().Format(timeLayout)},
	}}}
	a := risonObject{
		{"columns", SearchColumns()},
		{"dataSource", risonObject{{"dataViewId", dataViewID}, {"type", "dataView"}}},
		{"index", dataViewID},
		{"query", risonObject{{"language", "kuery"}, {"query", kql}}},
		{"sort", []any{[]any{"@timestamp", "asc"}}},
	}
	gs, _ := risonEncode(g) // only strings: cannot fail
	as, _ := risonEncode(a)
	return strings.TrimRight(base, "/") + "/app/discover#/?_g=" + encodeURIQuery(gs) + "&_a=" + encodeURIQuery(as)
}

// encodeURIQuery percent-encodes s as Kibana's URL state does
// (encodeURIComponent, then @ : $ , ; left readable, spaces as %20), so
// rison's punctuation stays legible and nothing in s can end the
// parameter, the fragment or the URL.
func encodeURIQuery(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("-_.!~*'()@:$,;", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// DiscoverLink is what ParseDiscoverURL reads back from a Discover URL.
type DiscoverLink struct {
	// Base is everything before "/app/discover".
	Base string
	// DataViewID is the data view of _a.dataSource (or the legacy _a.index).
	DataViewID string
	// Query is the KQL query text.
	Query string
	// CorrelationID is the ID when Query is exactly correlation.id:"<id>".
	CorrelationID string
	// From and To are the absolute time window of _g.time.
	From, To time.Time
	// Columns are the columns of _a.columns.
	Columns []string
	// Sort is _a.sort as field/direction pairs.
	Sort [][2]string
}

// ParseDiscoverURL reads a Discover URL the way Kibana does: the fragment's
// query parameters are URL-decoded ("+" is a space), then rison-decoded.
func ParseDiscoverURL(link string) (*DiscoverLink, error) {
	base, frag, ok := strings.Cut(link, "/app/discover#")
	if !ok {
		return nil, fmt.Errorf("kibana: %q is not a Discover link", link)
	}
	_, query, ok := strings.Cut(frag, "?")
	if !ok {
		return nil, fmt.Errorf("kibana: Discover link without state")
	}
	params := map[string]any{}
	for _, kv := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(kv, "=")
		raw, err := url.PathUnescape(strings.ReplaceAll(v, "+", " "))
		if err != nil {
			return nil, fmt.Errorf("kibana: parameter %s: %w", k, err)
		}
		if params[k], err = risonDecode(raw); err != nil {
			return nil, fmt.Errorf("kibana: parameter %s: %w", k, err)
		}
	}
	l := &DiscoverLink{Base: base}
	if err := l.readGlobal(params["_g"]); err != nil {
		return nil, err
	}
	if err := l.readApp(params["_a"]); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *DiscoverLink) readGlobal(g any) error {
	tm, _ := field(g, "time").(map[string]any)
	from, _ := tm["from"].(string)
	to, _ := tm["to"].(string)
	var err error
	if l.From, err = time.Parse(time.RFC3339Nano, from); err != nil {
		return fmt.Errorf("kibana: _g.time.from: %w", err)
	}
	if l.To, err = time.Parse(time.RFC3339Nano, to); err != nil {
		return fmt.Errorf("kibana: _g.time.to: %w", err)
	}
	return nil
}

func (l *DiscoverLink) readApp(a any) error {
	if id, ok := field(field(a, "dataSource"), "dataViewId").(string); ok {
		l.DataViewID = id
	} else if id, ok := field(a, "index").(string); ok {
		l.DataViewID = id
	} else {
		return fmt.Errorf("kibana: _a names no data view")
	}
	q := field(a, "query")
	if lang, _ := field(q, "language").(string); lang != "kuery" {
		return fmt.Errorf("kibana: _a.query.language is %q, not kuery", lang)
	}
	l.Query, _ = field(q, "query").(string)
	if v, ok := strings.CutPrefix(l.Query, "correlation.id:"); ok {
		l.CorrelationID, _ = unquoteKQL(v)
	}
	cols, _ := field(a, "columns").([]any)
	for _, c := range cols {
		s, ok := c.(string)
		if !ok {
			return fmt.Errorf("kibana: _a.columns holds a %T", c)
		}
		l.Columns = append(l.Columns, s)
	}
	sorts, _ := field(a, "sort").([]any)
	for _, s := range sorts {
		pair, _ := s.([]any)
		if len(pair) != 2 {
			return fmt.Errorf("kibana: _a.sort entry %v is not a field/direction pair", s)
		}
		f, _ := pair[0].(string)
		d, _ := pair[1].(string)
		l.Sort = append(l.Sort, [2]string{f, d})
	}
	return nil
}

func field(v any, name string) any {
	m, _ := v.(map[string]any)
	return m[name]
}
