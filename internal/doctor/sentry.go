package doctor

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/glassbox-obs/glassbox/exporter/sentry"
)

// sentryTarget is what the Sentry check contacts.
type sentryTarget struct {
	skip     string // why the check is skipped; "" to run it
	endpoint string // the project's envelope endpoint
	key      string // the DSN's public key
	display  string // host and project, for messages (no key)
}

// readSentry checks the Sentry variables: the DSN with the exporter's own
// constructor (sentry.New), the sample rate with the exporter's rule.
func readSentry(get func(string) string, f *findings) *sentryTarget {
	t := &sentryTarget{}
	if v := get("SENTRY_SAMPLE_RATE"); v != "" {
		if r, err := strconv.ParseFloat(v, 64); err != nil || !(r > 0 && r <= 1) {
			f.fail("SENTRY_SAMPLE_RATE", fmt.Errorf("%q is not a number in (0, 1]", v))
		}
	}
	dsn := get("SENTRY_DSN")
	if dsn == "" {
		t.skip = "SENTRY_DSN is not set"
		return t
	}
	// The DSN alone: the other settings are checked here, from getenv,
	// and must not be read from the process environment by New.
	rep, err := sentry.New(sentry.WithDSN(dsn), sentry.WithSampleRate(1), sentry.WithKibanaURL(""))
	if err != nil {
		msg := err.Error()
		if _, after, ok := strings.Cut(msg, "WithDSN: "); ok {
			msg = after
		}
		f.fail("SENTRY_DSN", plainError(msg))
		t.skip = "SENTRY_DSN does not parse (see config)"
		return t
	}
	_ = rep.Shutdown(context.Background())
	t.endpoint, t.key, t.display = envelopeEndpoint(dsn)
	return t
}

// envelopeEndpoint derives, from a DSN the exporter accepted
// ("scheme://key@host[:port][/path]/project"), the envelope endpoint
// ("scheme://host[:port][/path]/api/project/envelope/") as the Sentry
// protocol defines it.
func envelopeEndpoint(dsn string) (endpoint, key, display string) {
	u, _ := url.Parse(dsn)
	path := strings.TrimSuffix(u.Path, "/")
	i := strings.LastIndexByte(path, '/')
	project := path[i+1:]
	base := url.URL{Scheme: u.Scheme, Host: u.Host, Path: path[:i+1]}
	endpoint = strings.TrimSuffix(base.String(), "/") + "/api/" + url.PathEscape(project) + "/envelope/"
	return endpoint, u.User.Username(), u.Scheme + "://" + u.Host + " (project " + project + ")"
}

// checkSentry posts an envelope holding one client report that discards
// nothing: the ingest endpoint authenticates the key and the project and
// answers, and no event is created.
func checkSentry(ctx context.Context, o Options, t *sentryTarget) Result {
	r := Result{Name: CheckSentry}
	if t.skip != "" {
		r.Status, r.Summary = Skip, t.skip
		return r
	}
	ctx, cancel := requestContext(ctx, o)
	defer cancel()
	now := o.Now().UTC().Format(time.RFC3339)
	item := `{"timestamp":"` + now + `","discarded_events":[]}`
	body := `{"sent_at":"` + now + `"}` + "\n" +
		`{"type":"client_report","length":` + strconv.Itoa(len(item)) + "}\n" + item + "\n"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.endpoint, strings.NewReader(body))
	if err != nil {
		r.Status, r.Summary = Fail, err.Error()
		return r
	}
	req.Header.Set("Content-Type", "application/x-sentry-envelope")
	req.Header.Set("X-Sentry-Auth", "Sentry sentry_version=7, sentry_client=glassbox-doctor/1, sentry_key="+t.key)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	defer tr.CloseIdleConnections()
	res, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		r.Status, r.Summary = Fail, t.display+": "+safe(timedOut(ctx, unwrapURLError(err), o).Error())
		r.Fix = "check the host of SENTRY_DSN and that this machine may reach it (proxy, firewall)"
		return r
	}
	answer, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	res.Body.Close()
	said := fmt.Sprintf("HTTP %d", res.StatusCode)
	if a := strings.TrimSpace(string(bytes.ToValidUTF8(answer, nil))); a != "" && res.StatusCode != http.StatusOK {
		said += ": " + safe(a)
	}
	r.Summary = t.display + " answered " + said
	switch code := res.StatusCode; {
	case code == http.StatusOK:
		r.Status = Pass
		r.Summary = t.display + " accepts the key"
	case code == http.StatusTooManyRequests:
		r.Status = Warn
		r.Fix = "the project is rate-limited: events are dropped until the limit lifts (Sentry > Settings > Quotas)"
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		r.Status = Fail
		r.Fix = "the key or the project of SENTRY_DSN was refused: copy the DSN again from Sentry > Project Settings > Client Keys"
	case code == http.StatusNotFound:
		r.Status = Fail
		r.Fix = "no Sentry ingest endpoint at that address: check the host and path of SENTRY_DSN"
	default:
		r.Status = Fail
		r.Fix = "Sentry did not accept the request; try again later, or check the status of your Sentry server"
	}
	return r
}
