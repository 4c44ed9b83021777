package sentry

import (
	"errors"
	"net/url"
	"strings"
)

// dsn is a parsed Sentry DSN: where envelopes go and the key they are
// sent with.
type dsn struct {
	raw       string
	endpoint  string // scheme://host[:port][/path]/api/<project>/envelope/
	publicKey string
	secretKey string // legacy DSNs only
	projectID string
}

// parseDSN parses "scheme://public_key[:secret]@host[:port][/path]/project_id".
func parseDSN(s string) (*dsn, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return nil, errors.New("not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, errors.New("scheme must be http or https")
	}
	if u.User == nil || u.User.Username() == "" {
		return nil, errors.New("no public key")
	}
	if u.Host == "" {
		return nil, errors.New("no host")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("unexpected query or fragment")
	}
	path := strings.TrimSuffix(u.Path, "/")
	i := strings.LastIndexByte(path, '/')
	project := path[i+1:]
	if project == "" {
		return nil, errors.New("no project ID")
	}
	secret, _ := u.User.Password()
	base := url.URL{Scheme: u.Scheme, Host: u.Host, Path: path[:i+1]}
	return &dsn{
		raw:       s,
		endpoint:  strings.TrimSuffix(base.String(), "/") + "/api/" + url.PathEscape(project) + "/envelope/",
		publicKey: u.User.Username(),
		secretKey: secret,
		projectID: project,
	}, nil
}

// authHeader is the X-Sentry-Auth value for client.
func (d *dsn) authHeader(client string) string {
	h := "Sentry sentry_version=7, sentry_client=" + client + ", sentry_key=" + d.publicKey
	if d.secretKey != "" {
		h += ", sentry_secret=" + d.secretKey
	}
	return h
}
