package oconf

import (
	"crypto/tls"
	"fmt"
	"net/url"
	"path"
	"time"
)

// OptionSet is how one of the SDK's OTLP exporter packages spells the
// settings of Config: the same settings, one option type per package.
// Sets are built when an exporter is, never at package initialisation:
// some SDK option constructors report through the global error handler.
type OptionSet[O any] struct {
	EndpointURL func(string) O
	Headers     func(map[string]string) O
	Insecure    func() O
	Timeout     func(time.Duration) O
	Compression func(gzip bool) O
	TLS         func(*tls.Config) O
	Retry       func(Retry) O
}

// ExporterOptions translates c into the options of set, with c.Endpoint
// as the exporter's endpoint URL as it is (gRPC has no per-signal path).
func ExporterOptions[O any](c Config, set OptionSet[O]) []O {
	var o []O
	if c.Endpoint != "" {
		o = append(o, set.EndpointURL(c.Endpoint))
	}
	if c.Headers != nil {
		o = append(o, set.Headers(c.Headers))
	}
	if c.Insecure {
		o = append(o, set.Insecure())
	}
	if c.Timeout > 0 {
		o = append(o, set.Timeout(c.Timeout))
	}
	if c.Compression != "" {
		o = append(o, set.Compression(c.Compression == "gzip"))
	}
	if c.TLSConfig != nil {
		o = append(o, set.TLS(c.TLSConfig))
	}
	if c.Retry != nil {
		o = append(o, set.Retry(*c.Retry))
	}
	return o
}

// HTTPExporterOptions is ExporterOptions for an HTTP exporter: the
// endpoint is a base URL the signal's path is appended to.
func HTTPExporterOptions[O any](c Config, set OptionSet[O], signalPath string) ([]O, error) {
	if c.Endpoint != "" {
		u, err := SignalURL(c.Endpoint, signalPath)
		if err != nil {
			return nil, err
		}
		c.Endpoint = u
	}
	return ExporterOptions(c, set), nil
}

// SignalURL appends the signal's path to a base endpoint URL, the way the
// OTLP specification treats OTEL_EXPORTER_OTLP_ENDPOINT.
func SignalURL(base, signalPath string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("otlp: endpoint %q is not an absolute URL (want e.g. http://localhost:4318)", base)
	}
	u.Path = path.Join("/", u.Path, signalPath)
	u.RawPath = ""
	return u.String(), nil
}
