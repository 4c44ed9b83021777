package doctor

import (
	"bytes"
	"context"
	"errors"
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
	auth     string // the X-Sentry-Auth header (holds the key)
	display  string // host and project, for messages (no key)
}

// readSentry checks the Sentry variables with the exporter's own code
// (sentry.Check, what sentry.New runs, against getenv) and takes the
// endpoint and the key the exporter would send to from it.
func readSentry(getenv func(string) string, f *findings) *sentryTarget {
	t := &sentryTarget{}
	d, err := sentry.Check(sentry.WithGetenv(getenv))
	switch {
	case errors.Is(err, sentry.ErrNoDSN):
		t.skip = "SENTRY_DSN is not set"
		return t
	case err != nil:
		name := variableOf(err.Error(), "SENTRY_DSN")
		f.fail(name, trimPrefix(err, "glassbox/sentry: "))
		t.skip = name + " does not parse (see config)"
		return t
	}
	t.endpoint = d.EnvelopeURL()
	t.auth = d.AuthHeader("glassbox-doctor/1")
	host := t.endpoint
	if u, err := url.Parse(t.endpoint); err == nil {
		host = u.Scheme + "://" + u.Host
	}
	t.display = host + " (project " + d.ProjectID() + ")"
	return t
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
	req.Header.Set("X-Sentry-Auth", t.auth)
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
