package sentry

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// DSN is a parsed Sentry DSN: where envelopes go and the key they are
// sent with. Its methods never show the key except AuthHeader.
type DSN struct {
	raw       string
	endpoint  string // scheme://host[:port][/path]/api/<project>/envelope/
	publicKey string
	secretKey string // legacy DSNs only
	projectID string
}

// ParseDSN parses a DSN as New takes it from WithDSN or SENTRY_DSN:
// "scheme://public_key[:secret]@host[:port][/path]/project_id", with
// scheme http or https. The error says what is wrong without repeating
// the DSN.
func ParseDSN(s string) (*DSN, error) {
	d, err := parseDSN(s)
	if err != nil {
		return nil, fmt.Errorf("invalid DSN: %w", err)
	}
	return d, nil
}

func parseDSN(s string) (*DSN, error) {
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
	return &DSN{
		raw:       s,
		endpoint:  strings.TrimSuffix(base.String(), "/") + "/api/" + url.PathEscape(project) + "/envelope/",
		publicKey: u.User.Username(),
		secretKey: secret,
		projectID: project,
	}, nil
}

// EnvelopeURL is the project's envelope endpoint, where events are
// posted: "scheme://host[:port][/path]/api/<project>/envelope/".
func (d *DSN) EnvelopeURL() string { return d.endpoint }

// ProjectID is the Sentry project the DSN sends to.
func (d *DSN) ProjectID() string { return d.projectID }

// AuthHeader is the X-Sentry-Auth value a request to EnvelopeURL carries,
// naming client ("name/version") as the sender. It holds the key.
func (d *DSN) AuthHeader(client string) string {
	h := "Sentry sentry_version=7, sentry_client=" + client + ", sentry_key=" + d.publicKey
	if d.secretKey != "" {
		h += ", sentry_secret=" + d.secretKey
	}
	return h
}
