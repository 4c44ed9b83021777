package elasticsearch

import (
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// The environment variables New and Connect read (options win).
const (
	envURL        = "ELASTICSEARCH_URL"      // comma-separated node URLs
	envCloudID    = "ELASTICSEARCH_CLOUD_ID" // used when ELASTICSEARCH_URL is not set
	envAPIKey     = "ELASTICSEARCH_API_KEY"  // wins over basic authentication
	envUsername   = "ELASTICSEARCH_USERNAME"
	envPassword   = "ELASTICSEARCH_PASSWORD"
	envCACert     = "ELASTICSEARCH_CA_CERT" // a PEM file
	envSpoolDir   = "GLASSBOX_SPOOL_DIR"
	envSpoolMode  = "GLASSBOX_SPOOL_MODE"  // on-failure | always
	envSpoolFsync = "GLASSBOX_SPOOL_FSYNC" // boolean
	envTemplates  = "GLASSBOX_ELASTICSEARCH_TEMPLATES"
	envRetention  = "GLASSBOX_ELASTICSEARCH_RETENTION" // 30d or a Go duration
)

// loadEnv reads the environment into c. Errors name the variable and
// never show a password.
func (c *config) loadEnv(getenv func(string) string) error {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	if v := get(envURL); v != "" {
		addrs, err := parseURLs(v)
		if err != nil {
			return fmt.Errorf("elasticsearch: %s: %w", envURL, err)
		}
		c.addresses = addrs
	} else {
		c.cloudID = get(envCloudID)
	}
	if c.apiKey = get(envAPIKey); c.apiKey == "" {
		c.username, c.password = getenv(envUsername), getenv(envPassword)
	}
	if f := get(envCACert); f != "" {
		pem, err := readCACert(f)
		if err != nil {
			return fmt.Errorf("elasticsearch: %s: %w", envCACert, err)
		}
		c.caCert = pem
	}
	c.spoolDir = get(envSpoolDir)
	if v := get(envSpoolMode); v != "" {
		switch m := SpoolMode(strings.ToLower(v)); m {
		case SpoolOnFailure, SpoolAlways:
			c.spoolMode = m
		default:
			return fmt.Errorf("elasticsearch: %s: %q is not %q or %q", envSpoolMode, v, SpoolOnFailure, SpoolAlways)
		}
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{envSpoolFsync, &c.spoolFsync}, {envTemplates, &c.templates}} {
		if v := get(b.name); v != "" {
			on, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("elasticsearch: %s: %q is not a boolean", b.name, v)
			}
			*b.dst = on
		}
	}
	if v := get(envRetention); v != "" {
		d, err := ParseRetention(v)
		if err != nil {
			return fmt.Errorf("elasticsearch: %s: %w", envRetention, err)
		}
		c.retention = d
	}
	return nil
}

// parseURLs splits a comma-separated list of http(s) URLs.
func parseURLs(v string) ([]string, error) {
	var out []string
	for _, a := range strings.Split(v, ",") {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		u, err := url.Parse(a)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%q is not an http(s) URL", redactURL(a))
		}
		out = append(out, a)
	}
	return out, nil
}

// redactURL hides the password of a URL with user info, also in one that
// does not parse.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		return u.Redacted()
	}
	if at := strings.LastIndexByte(s, '@'); at >= 0 {
		if i := strings.Index(s, "://"); i >= 0 && i < at {
			return s[:i+3] + "xxxxx" + s[at:]
		}
		return "xxxxx" + s[at:]
	}
	return s
}

func readCACert(file string) ([]byte, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if !x509.NewCertPool().AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return pem, nil
}

// ParseRetention parses a retention as GLASSBOX_ELASTICSEARCH_RETENTION
// takes it: a positive number of days ("30d") or a positive Go duration
// ("720h"). Tools that take a retention (the glassbox CLI's --retention)
// use it so that the flag and the variable accept the same values.
func ParseRetention(v string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("%q is not a positive number of days", v)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration (e.g. 30d or 720h)", v)
	}
	return d, nil
}
