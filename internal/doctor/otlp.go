package doctor

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/glassbox-obs/glassbox/exporter/otlp"
)

// otlpTarget is what the OTLP check of one signal contacts.
type otlpTarget struct {
	name   string // CheckOTLPTraces, CheckOTLPLogs or CheckOTLPMetrics
	signal string // "traces", "logs" or "metrics"
	skip   string // why the check is skipped; "" to run it

	protocol    otlp.Protocol
	protocolVar string // the variable the protocol came from
	endpoint    string // http/protobuf: the URL posted to; grpc: the URL whose host is dialled
	endpointVar string // the variable the endpoint came from, "" for the default
	headers     map[string]string
	headersVar  string
	insecure    bool   // grpc without TLS
	caFile      string // PEM roots, from caVar
	caVar       string
}

// readOTLP reads, per signal, what the OTLP exporters read: the exporter
// switch, the protocol, timeout and batching variables (through the otlp
// package's own code, otlp.TraceSettings, otlp.LogSettings and
// otlp.MetricSettings), the endpoint, headers and TLS (which the OTel
// SDK's exporters read; see readEndpoint). Traces and logs are checked
// when Start would export them. Metrics are opt-in in code
// (glassbox.WithMetricsExporter), which doctor cannot see: they are
// checked when OTEL_METRICS_EXPORTER names otlp, with which Start either
// exports them over OTLP or refuses to start.
func readOTLP(getenv func(string) string, f *findings) []*otlpTarget {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	disabled := strings.EqualFold(get("OTEL_SDK_DISABLED"), "true")
	var out []*otlpTarget
	for _, sig := range []string{"TRACES", "LOGS", "METRICS"} {
		t := &otlpTarget{signal: strings.ToLower(sig), name: map[string]string{"TRACES": CheckOTLPTraces, "LOGS": CheckOTLPLogs, "METRICS": CheckOTLPMetrics}[sig]}
		out = append(out, t)
		switchVar := "OTEL_" + sig + "_EXPORTER"
		if sig == "METRICS" {
			switchVar = "OTEL_METRICS_EXPORTER"
		}
		exporter := readExporterSwitch(get, switchVar)
		endpointSet := get("OTEL_EXPORTER_OTLP_"+sig+"_ENDPOINT") != "" || get("OTEL_EXPORTER_OTLP_ENDPOINT") != ""
		switch {
		case disabled:
			t.skip = "OTEL_SDK_DISABLED is true"
		case sig == "METRICS" && exporter != "otlp":
			t.skip = "OTEL_METRICS_EXPORTER does not name otlp (metrics over OTLP are opt-in: glassbox.WithMetricsExporter(otlpmetric.New()))"
		case exporter == "none":
			t.skip = "OTEL_" + sig + "_EXPORTER is none"
		case exporter != "otlp" && !endpointSet:
			t.skip = "OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_EXPORTER_OTLP_" + sig + "_ENDPOINT are not set"
		default:
			// Start exports the signal: the exporter's variables matter.
			t.read(getenv, sig, f)
		}
	}
	return out
}

// read reads the exporter's variables for a signal Start exports; one
// that makes the exporter refuse to start skips the check.
func (t *otlpTarget) read(getenv func(string) string, sig string, f *findings) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	fail := func(name string, err error) {
		f.fail(name, err)
		if t.skip == "" {
			t.skip = name + " does not parse (see config)"
		}
	}
	settings := map[string]func(...otlp.Option) (otlp.Settings, []error, error){
		"TRACES": otlp.TraceSettings, "LOGS": otlp.LogSettings, "METRICS": otlp.MetricSettings,
	}[sig]
	s, warnings, err := settings(otlp.WithGetenv(getenv))
	if err != nil {
		fail(variableOf(err.Error(), "OTEL_EXPORTER_OTLP_PROTOCOL"), trimPrefix(err, "otlp: "))
	}
	for _, w := range warnings {
		f.warn(variableOf(w.Error(), "environment"), trimPrefix(w, "otlp: ").Error())
	}
	t.protocol = s.Protocol
	t.protocolVar = "OTEL_EXPORTER_OTLP_" + sig + "_PROTOCOL"
	if get(t.protocolVar) == "" {
		t.protocolVar = "OTEL_EXPORTER_OTLP_PROTOCOL"
	}
	if err := t.readEndpoint(get, sig); err != nil {
		fail(t.endpointVar, err)
	}
	t.readHeaders(get, sig, f)
	t.insecure = strings.EqualFold(firstSet(get, "OTEL_EXPORTER_OTLP_"+sig+"_INSECURE", "OTEL_EXPORTER_OTLP_INSECURE"), "true")
	t.caVar = "OTEL_EXPORTER_OTLP_" + sig + "_CERTIFICATE"
	if get(t.caVar) == "" {
		t.caVar = "OTEL_EXPORTER_OTLP_CERTIFICATE"
	}
	t.caFile = get(t.caVar)
}

// readExporterSwitch reads OTEL_TRACES_EXPORTER or OTEL_LOGS_EXPORTER as
// Start does: "otlp" anywhere wins over "none"; other names are ignored
// (glassbox.CheckEnvironment reports them).
func readExporterSwitch(get func(string) string, name string) string {
	out := ""
	for _, v := range strings.Split(get(name), ",") {
		switch v = strings.ToLower(strings.TrimSpace(v)); v {
		case "":
		case "otlp", "none":
			if out != "otlp" {
				out = v
			}
		}
	}
	return out
}

func firstSet(get func(string) string, names ...string) string {
	for _, n := range names {
		if v := get(n); v != "" {
			return v
		}
	}
	return ""
}

// readEndpoint resolves the endpoint as the OTel SDK's exporters do. It
// and readHeaders mirror the SDK's rules: the SDK reads these variables
// from the process environment in an internal package (otlpconfig and
// envconfig of each exporter module), with no getenv to pass and no
// exported result, and the otlp package leaves them to it. Doctor is
// stricter on one point: an endpoint that is not an http(s) URL fails
// here, where the SDK reports it to the OTel error handler and sends to
// its default instead.
func (t *otlpTarget) readEndpoint(get func(string) string, sig string) error {
	own, general := "OTEL_EXPORTER_OTLP_"+sig+"_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"
	var raw string
	switch {
	case get(own) != "":
		t.endpointVar, raw = own, get(own)
	case get(general) != "":
		t.endpointVar, raw = general, get(general)
	case t.protocol == otlp.ProtocolGRPC:
		raw = "http://localhost:4317"
	default:
		raw = "http://localhost:4318"
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", raw)
	}
	if t.protocol != otlp.ProtocolGRPC && t.endpointVar != own {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/" + t.signal
	}
	t.endpoint = u.String()
	return nil
}

// readHeaders reads the signal's header list, else the general one:
// key=value pairs separated by commas, values percent-encoded. The
// exporters skip a malformed pair; so does the check, with a warning.
func (t *otlpTarget) readHeaders(get func(string) string, sig string, f *findings) {
	t.headersVar = "OTEL_EXPORTER_OTLP_" + sig + "_HEADERS"
	if get(t.headersVar) == "" {
		t.headersVar = "OTEL_EXPORTER_OTLP_HEADERS"
	}
	t.headers = map[string]string{}
	for _, pair := range strings.Split(get(t.headersVar), ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		val, err := url.PathUnescape(strings.TrimSpace(v))
		if !ok || k == "" || err != nil {
			f.warn(t.headersVar, "an entry is not key=value with a percent-encoded value; it is skipped")
			continue
		}
		t.headers[k] = val
	}
}

// checkOTLP sends an empty export request, which a collector accepts
// without storing anything.
func checkOTLP(ctx context.Context, o Options, t *otlpTarget) Result {
	r := Result{Name: t.name}
	if t.skip != "" {
		r.Status, r.Summary = Skip, t.skip
		return r
	}
	var tc *tls.Config
	if t.caFile != "" {
		pem, err := os.ReadFile(t.caFile)
		pool := x509.NewCertPool()
		if err != nil || !pool.AppendCertsFromPEM(pem) {
			r.Status, r.Summary = Fail, t.caVar+": "+t.caFile+" holds no readable PEM certificate"
			r.Fix = "point " + t.caVar + " at the PEM file of the CA that signed the collector's certificate"
			return r
		}
		tc = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	ctx, cancel := requestContext(ctx, o)
	defer cancel()
	where := redacted(t.endpoint) + " (" + string(t.protocol) + ")"
	err := t.export(ctx, tc, t.protocol, t.endpoint)
	if err != nil {
		r.Status = Fail
		r.Summary = where + ": " + safe(timedOut(ctx, err, o).Error())
		r.Fix = t.fix(err)
		if other := t.otherProtocol(ctx, tc); other != "" {
			r.Summary = where + ": the server speaks " + string(other) + ", not " + string(t.protocol)
			r.Fix = "set " + t.protocolVar + "=" + string(other) + ", or point " + t.endpointName() + " at the collector's " + string(t.protocol) + " port (" + defaultPort(t.protocol) + ")"
		}
		return r
	}
	r.Status, r.Summary = Pass, where+" accepts "+t.signal
	return r
}

// export sends an empty export request of the signal to endpoint over p.
func (t *otlpTarget) export(ctx context.Context, tc *tls.Config, p otlp.Protocol, endpoint string) error {
	if p == otlp.ProtocolGRPC {
		return t.exportGRPC(ctx, tc, endpoint)
	}
	return t.exportHTTP(ctx, tc, endpoint)
}

// exportHTTP posts an empty ExportTraceServiceRequest (zero bytes of
// protobuf); 2xx is accepted, and so is 400, the answer of collectors
// that refuse an export without data.
func (t *otlpTarget) exportHTTP(ctx context.Context, tc *tls.Config, endpoint string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(nil))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	for k, v := range t.headers {
		req.Header.Set(k, v)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	defer tr.CloseIdleConnections()
	res, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return unwrapURLError(err)
	}
	body, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	res.Body.Close()
	if res.StatusCode/100 == 2 || res.StatusCode == http.StatusBadRequest {
		return nil
	}
	return &httpStatusError{code: res.StatusCode, body: strings.TrimSpace(string(body))}
}

// exportGRPC calls Export with an empty request on a fresh connection.
func (t *otlpTarget) exportGRPC(ctx context.Context, tc *tls.Config, endpoint string) error {
	u, _ := url.Parse(endpoint)
	creds := insecure.NewCredentials()
	if u.Scheme == "https" && !t.insecure {
		if tc == nil {
			tc = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		creds = credentials.NewTLS(tc)
	}
	conn, err := grpc.NewClient(u.Host, grpc.WithTransportCredentials(creds))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx = metadata.NewOutgoingContext(ctx, metadata.New(t.headers))
	switch t.signal {
	case "logs":
		_, err = collogspb.NewLogsServiceClient(conn).Export(ctx, &collogspb.ExportLogsServiceRequest{})
	case "metrics":
		_, err = colmetricspb.NewMetricsServiceClient(conn).Export(ctx, &colmetricspb.ExportMetricsServiceRequest{})
	default:
		_, err = coltracepb.NewTraceServiceClient(conn).Export(ctx, &coltracepb.ExportTraceServiceRequest{})
	}
	return err
}

// otherProtocol asks the endpoint's server in the other OTLP protocol:
// when that export succeeds, the server speaks it (a gRPC port given as
// OTLP/HTTP, or the reverse), and otherProtocol returns it; else "".
func (t *otlpTarget) otherProtocol(ctx context.Context, tc *tls.Config) otlp.Protocol {
	u, err := url.Parse(t.endpoint)
	if err != nil || ctx.Err() != nil {
		return ""
	}
	other, endpoint := otlp.ProtocolGRPC, t.endpoint
	if t.protocol == otlp.ProtocolGRPC {
		other = otlp.ProtocolHTTPProtobuf
		endpoint = (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/v1/" + t.signal}).String()
	}
	if t.export(ctx, tc, other, endpoint) != nil {
		return ""
	}
	return other
}

func defaultPort(p otlp.Protocol) string {
	if p == otlp.ProtocolGRPC {
		return "4317"
	}
	return "4318"
}

func (t *otlpTarget) endpointName() string {
	if t.endpointVar != "" {
		return t.endpointVar
	}
	return "OTEL_EXPORTER_OTLP_ENDPOINT"
}

// fix says what to do about a failed export.
func (t *otlpTarget) fix(err error) string {
	where := t.endpointName()
	var he *httpStatusError
	code := status.Code(err)
	switch {
	case errors.As(err, &he) && (he.code == http.StatusUnauthorized || he.code == http.StatusForbidden),
		code == codes.Unauthenticated, code == codes.PermissionDenied:
		return "the collector refused the request's credentials: check " + t.headersVar
	case errors.As(err, &he) && he.code == http.StatusNotFound:
		return "nothing answers OTLP at that path: " + where + " is a base URL (…:4318) for OTEL_EXPORTER_OTLP_ENDPOINT, the full URL (…/v1/" + t.signal + ") for the per-signal variable"
	case errors.As(err, &he) && he.code == http.StatusUnsupportedMediaType:
		return "the endpoint does not take protobuf: is it OTLP/HTTP (port 4318)?"
	case strings.Contains(err.Error(), "HTTP response to HTTPS client"), strings.Contains(err.Error(), "first record does not look like a TLS handshake"):
		return "the collector does not speak TLS: use http:// in " + where
	case code == codes.Unimplemented:
		return "the server does not implement OTLP " + t.signal + " over gRPC: is " + where + " the gRPC port (4317) of a collector that accepts " + t.signal + "?"
	case errors.As(err, &he):
		return "the collector refused the export: look at its logs"
	}
	return "start the collector, or correct " + where + " and OTEL_EXPORTER_OTLP_PROTOCOL (grpc on 4317, http/protobuf on 4318)"
}

// redacted hides the password of a URL with user info.
func redacted(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return s
}

type httpStatusError struct {
	code int
	body string
}

func (e *httpStatusError) Error() string {
	if e.body == "" {
		return fmt.Sprintf("HTTP %d", e.code)
	}
	return fmt.Sprintf("HTTP %d: %s", e.code, e.body)
}

// unwrapURLError drops the "Post "<url>": " prefix of a client error: the
// check's line names the URL already.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		var ne net.Error
		if errors.As(ue.Err, &ne) && ne.Timeout() {
			return errors.New("no answer before the timeout")
		}
		return ue.Err
	}
	return err
}
