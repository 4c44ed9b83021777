package main

import (
	"fmt"
	"os"
	"strings"
)

// setupCommand is "glassbox setup <backend>": it prepares a backend for
// glassbox's data. One subcommand per file: setup_elasticsearch.go,
// setup_kibana.go, setup_prometheus.go, setup_grafana.go.
func setupCommand() *command {
	return &command{
		name:  "setup",
		short: "prepare Elasticsearch, Kibana, Prometheus and Grafana for glassbox data",
		long: `Setup installs (or writes) what a backend needs to store and show glassbox's
data: Elasticsearch index templates and ILM policy, Kibana saved objects,
Prometheus recording and alerting rules, a Grafana dashboard. Every command
is idempotent: objects have fixed IDs and names, so running it again changes
nothing or updates them in place.`,
		sub: []*command{
			setupElasticsearchCommand(),
			setupKibanaCommand(),
			setupPrometheusCommand(),
			setupGrafanaCommand(),
		},
	}
}

// listFlag is a flag that may be repeated; each use adds a value.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ", ") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// writeOutput writes data to path, or to standard output when path is ""
// or "-".
func writeOutput(e *env, path string, data []byte) error {
	if path == "" || path == "-" {
		_, err := e.stdout.Write(data)
		return err
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
