package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/glassbox-obs/glassbox/internal/kibana"
	"github.com/glassbox-obs/glassbox/internal/textsafe"
)

// setupKibanaCommand is "glassbox setup kibana".
func setupKibanaCommand() *command {
	return &command{
		name:  "kibana",
		args:  "[--out file] [--import kibana-url [--space id]]",
		short: "write or import Kibana data views, a saved search and a dashboard",
		long: `Setup kibana writes glassbox's Kibana saved objects as NDJSON, the format of
Kibana's saved-objects import API, for Kibana ` + strings.TrimSuffix(kibana.MinKibanaVersion, ".0") + ` and every later 8.x:

  data views    "glassbox logs" (logs-*-*) and "glassbox traces" (traces-*-*),
                time field @timestamp
  saved search  "Request by correlation ID": time, service.name, log.level,
                message, http.route, http.response.status_code, trace.id,
                error.id, oldest first
  dashboard     "glassbox overview": Lens panels for requests and errors per
                service, p95 latency per HTTP route and per gRPC method, top
                error types, and the saved search

The objects have fixed IDs, so a second import updates them in place.

With --out the objects go to a file, which Stack Management > Saved objects >
Import reads. With --import they are posted to Kibana's import API
(overwrite=true) in the default space or --space, and each object's result is
printed. With neither, the NDJSON goes to standard output.

Credentials for --import, the first that is set wins: KIBANA_API_KEY, then
ELASTICSEARCH_API_KEY (Kibana accepts the Elasticsearch API key, the base64
"id:key" form), then ELASTICSEARCH_USERNAME and ELASTICSEARCH_PASSWORD.

Examples:

	glassbox setup kibana --out glassbox-kibana.ndjson
	KIBANA_API_KEY=... glassbox setup kibana --import https://kibana.example.com:5601
	glassbox setup kibana --import http://localhost:5601 --space ops

Exit status: 0 when the file is written or every object was imported; 1 when
Kibana refused the file or any object; 2 on a usage error, or when Kibana
cannot be reached or refuses the credentials.
`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) int {
			out := fs.String("out", "", "write the NDJSON to `file` (\"-\" for standard output)")
			url := fs.String("import", "", "import into the Kibana at `url` (e.g. https://kibana.example.com:5601)")
			space := fs.String("space", "", "Kibana space `id` to import into (default: the default space)")
			caCert := fs.String("ca-cert", "", "PEM `file` of the CA that signed Kibana's certificate")
			timeout := fs.Duration("timeout", 30*time.Second, "give up on Kibana after this `duration`")
			return func(ctx context.Context, e *env, args []string) int {
				if len(args) > 0 {
					fmt.Fprintf(e.stderr, "glassbox setup kibana: unexpected argument %q\n", args[0])
					return exitUsage
				}
				if *url == "" && (*space != "" || *caCert != "") {
					fmt.Fprintln(e.stderr, "glassbox setup kibana: --space and --ca-cert need --import")
					return exitUsage
				}
				data, err := kibana.NDJSON(kibana.Objects())
				if err != nil {
					fmt.Fprintf(e.stderr, "glassbox setup kibana: %v\n", err)
					return exitNotFound
				}
				if *out != "" || *url == "" {
					if err := writeOutput(e, *out, data); err != nil {
						fmt.Fprintf(e.stderr, "glassbox setup kibana: %v\n", err)
						return exitUsage
					}
					if *out != "" && *out != "-" {
						fmt.Fprintf(e.stderr, "wrote %d saved objects to %s\n", len(kibana.Objects()), *out)
					}
				}
				if *url == "" {
					return exitOK
				}
				return importKibana(ctx, e, *url, *space, *caCert, *timeout, data)
			}
		},
	}
}

// importKibana posts data to Kibana and prints one line per object.
func importKibana(ctx context.Context, e *env, url, space, caCert string, timeout time.Duration, data []byte) int {
	if _, err := kibana.ImportURL(url, space); err != nil {
		fmt.Fprintf(e.stderr, "glassbox setup kibana: %v\n", err)
		return exitUsage
	}
	client, err := httpClient(caCert, timeout)
	if err != nil {
		fmt.Fprintf(e.stderr, "glassbox setup kibana: %v\n", err)
		return exitUsage
	}
	defer client.CloseIdleConnections()
	auth := kibana.AuthFromEnv(e.getenv)
	res, err := kibana.Import(ctx, client, url, space, auth, data)
	var apiErr *kibana.APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusForbidden:
		// Kibana knows the user but its roles do not let it create these
		// saved objects: other credentials do not help, a role does.
		if space == "" {
			space = "default"
		}
		fmt.Fprintf(e.stderr, "glassbox setup kibana: Kibana refused the import (HTTP 403): %s\n"+
			"The credentials are valid but lack a Kibana privilege: give the user (or API key) a role with the All privilege\n"+
			"on Saved Objects Management (or on Discover, Visualize Library and Dashboard) in space %s, or import as a user that has it.\n",
			safe(apiErr.Message), safe(space))
		return exitUsage
	case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusUnauthorized:
		how := "no credentials were sent: set KIBANA_API_KEY, ELASTICSEARCH_API_KEY or ELASTICSEARCH_USERNAME/_PASSWORD"
		if auth.Source != "" {
			how = "check " + auth.Source
		}
		fmt.Fprintf(e.stderr, "glassbox setup kibana: %v (%s)\n", err, how)
		return exitUsage
	case errors.As(err, &apiErr):
		fmt.Fprintf(e.stderr, "glassbox setup kibana: the import was refused: %v\n", err)
		return exitNotFound
	case err != nil:
		fmt.Fprintf(e.stderr, "glassbox setup kibana: cannot reach Kibana: %v\n", err)
		return exitUsage
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	for _, r := range res.SuccessResults {
		verb := "created"
		if r.Overwrite {
			verb = "updated"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", verb, safe(r.Type), safe(r.ID), safe(r.Meta.Title))
	}
	for _, f := range res.Errors {
		fmt.Fprintf(tw, "failed\t%s\t%s\t%s\n", safe(f.Type), safe(f.ID), safe(f.Reason()))
	}
	tw.Flush()
	total := len(res.SuccessResults) + len(res.Errors)
	if space == "" {
		space = "default"
	}
	fmt.Fprintf(e.stderr, "imported %d of %d objects into %s (space %s)\n", len(res.SuccessResults), total, url, space)
	if len(res.Errors) > 0 || !res.Success {
		return exitNotFound
	}
	return exitOK
}

func safe(s string) string { return textsafe.Sanitize(s, 200) }

// httpClient returns a client with a timeout and, when caCert names a
// file, that CA as the only trusted root.
func httpClient(caCert string, timeout time.Duration) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if caCert != "" {
		pem, err := os.ReadFile(caCert)
		if err != nil {
			return nil, fmt.Errorf("--ca-cert: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca-cert: %s holds no PEM certificate", caCert)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: timeout}, nil
}
