package slo

import (
	"fmt"
	"sort"
	"strings"
)

// promqlWords lists PromQL's keywords, functions and aggregations, each
// between spaces: never metric names where they appear.
const promqlWords = " " +
	"by without on ignoring group_left group_right bool and or unless offset inf nan atan2 sum " +
	"min max avg group stddev stdvar count count_values bottomk topk quantile limitk " +
	"limit_ratio abs absent absent_over_time ceil changes clamp clamp_max clamp_min " +
	"day_of_month day_of_week day_of_year days_in_month delta deriv exp floor histogram_avg " +
	"histogram_count histogram_fraction histogram_quantile histogram_stddev histogram_stdvar " +
	"histogram_sum holt_winters hour idelta increase irate label_join label_replace ln log2 " +
	"log10 minute month predict_linear rate resets round scalar sgn sort sort_desc " +
	"sort_by_label sort_by_label_desc sqrt time timestamp vector year avg_over_time " +
	"min_over_time max_over_time sum_over_time count_over_time quantile_over_time " +
	"stddev_over_time stdvar_over_time last_over_time present_over_time mad_over_time " +
	"label_values acos acosh asin asinh atan atanh cos cosh sin sinh tan tanh deg pi rad start " +
	"end "

func isPromQLWord(w string) bool { return strings.Contains(promqlWords, " "+w+" ") }

// MetricNames returns the metric names a PromQL expression (or a Grafana
// label_values query) selects, sorted: bare names and __name__ matchers
// whose value is a name or an alternation of names. Grafana variables
// ($service, $__rate_interval, ${x}) are ignored.
func MetricNames(expr string) ([]string, error) {
	names := map[string]bool{}
	s := expr
	// Grafana's label_values(<selector>, <label>): the label is no metric.
	if inner, ok := strings.CutPrefix(strings.TrimSpace(s), "label_values("); ok {
		if i := strings.LastIndexByte(inner, ','); i >= 0 && strings.HasSuffix(inner, ")") {
			s = inner[:i]
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			end := skipString(s, i)
			if end < 0 {
				return nil, fmt.Errorf("unterminated string in %q", expr)
			}
			i = end
		case c == '[':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("unterminated [ in %q", expr)
			}
			i += end + 1
		case c == '{':
			end, err := matchers(s, i, names)
			if err != nil {
				return nil, fmt.Errorf("%v in %q", err, expr)
			}
			i = end
		case c == '$':
			i++
			for i < len(s) && (isIdent(s[i]) || s[i] == '{' || s[i] == '}') {
				i++
			}
		case c >= '0' && c <= '9' || c == '.':
			for i < len(s) && (isIdent(s[i]) || s[i] == '.') {
				i++
			}
		case isIdentStart(c):
			start := i
			for i < len(s) && isIdent(s[i]) {
				i++
			}
			word := s[start:i]
			rest := strings.TrimLeft(s[i:], " \t\n")
			switch {
			case word == "by" || word == "without" || word == "on" || word == "ignoring" ||
				word == "group_left" || word == "group_right":
				// A label list follows.
				if strings.HasPrefix(rest, "(") {
					i = len(s) - len(rest)
					end := strings.IndexByte(s[i:], ')')
					if end < 0 {
						return nil, fmt.Errorf("unterminated label list in %q", expr)
					}
					i += end + 1
				}
			case isPromQLWord(word) || strings.HasPrefix(rest, "("):
			default:
				names[word] = true
			}
		default:
			i++
		}
	}
	out := make([]string, 0, len(names))
	for n := range names {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

func isIdentStart(c byte) bool {
	return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isIdent(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

// skipString returns the index after the string literal at i, or -1.
func skipString(s string, i int) int {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		if s[j] == '\\' && q != '`' {
			j++
			continue
		}
		if s[j] == q {
			return j + 1
		}
	}
	return -1
}

// matchers reads the label matchers at s[i] == '{', adds the names of
// __name__ matchers, and returns the index after '}'.
func matchers(s string, i int, names map[string]bool) (int, error) {
	i++
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == ',' || s[i] == '\n' || s[i] == '\t') {
			i++
		}
		if i >= len(s) {
			return 0, fmt.Errorf("unterminated {")
		}
		if s[i] == '}' {
			return i + 1, nil
		}
		start := i
		for i < len(s) && isIdent(s[i]) {
			i++
		}
		label := s[start:i]
		opStart := i
		for i < len(s) && strings.IndexByte("=!~ ", s[i]) >= 0 {
			i++
		}
		op := strings.TrimSpace(s[opStart:i])
		if label == "" || op == "" || i >= len(s) || (s[i] != '"' && s[i] != '\'' && s[i] != '`') {
			return 0, fmt.Errorf("malformed label matcher")
		}
		end := skipString(s, i)
		if end < 0 {
			return 0, fmt.Errorf("unterminated string")
		}
		value := s[i+1 : end-1]
		i = end
		if label != "__name__" {
			continue
		}
		switch op {
		case "=":
			names[value] = true
		case "=~":
			for _, alt := range strings.Split(value, "|") {
				for j := 0; j < len(alt); j++ {
					if !isIdent(alt[j]) {
						return 0, fmt.Errorf("__name__ regex %q is not an alternation of names", value)
					}
				}
				names[alt] = true
			}
		default:
			return 0, fmt.Errorf("__name__%s cannot be checked", op)
		}
	}
}

// CheckMetrics reports every query of the dashboard (panel targets and
// variable queries) that selects a metric not in exposed, the metric
// names a service exposes (slo.Metrics() for the contract, or the names
// of a real scrape).
func CheckMetrics(d *Dashboard, exposed []string) error {
	have := map[string]bool{}
	for _, n := range exposed {
		have[n] = true
	}
	var problems []string
	check := func(where, expr string) {
		names, err := MetricNames(expr)
		if err != nil {
			problems = append(problems, where+": "+err.Error())
			return
		}
		if len(names) == 0 {
			problems = append(problems, where+": selects no metric")
		}
		for _, n := range names {
			if !have[n] {
				problems = append(problems, fmt.Sprintf("%s: metric %s is not exposed", where, n))
			}
		}
	}
	for _, v := range d.Templating.List {
		if v.Type == "query" {
			check("variable "+v.Name, v.Query)
		}
	}
	var walk func(ps []Panel)
	walk = func(ps []Panel) {
		for _, p := range ps {
			for _, t := range p.Targets {
				check(fmt.Sprintf("panel %q target %s", p.Title, t.RefID), t.Expr)
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	if len(problems) > 0 {
		return fmt.Errorf("dashboard %s:\n  %s", d.UID, strings.Join(problems, "\n  "))
	}
	return nil
}
